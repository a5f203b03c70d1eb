"""`python -m kiln_engine ...`"""
import sys

from .cli import main

sys.exit(main())
