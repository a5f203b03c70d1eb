"""Fixtures of the end-to-end suite; the helpers live in e2e_support.py (a conftest is not importable by name
when other suites have one too)."""
from e2e_support import server  # noqa: F401 - re-exported as a fixture
