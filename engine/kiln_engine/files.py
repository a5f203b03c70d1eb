"""Atomic file writes: a temporary file in the target's folder, renamed over the target when complete."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def atomic_write(path: Path, write: Callable[[str], object], *, fsync: bool = True) -> None:
    """Call `write(tmp_path)` and rename the result onto `path`, so readers never see a torn file.

    `fsync` makes the contents durable before the rename; a cache whose torn entries are simply
    rebuilt can skip it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
