"""Content-addressed cache of encoded tensors: `cache_dir/encoded/<kind>/<sha256>.safetensors`.

Keys hash the input file bytes (or caption text), the model identity and the encoder
version, so a repeated or resumed job skips encoding and a changed input re-encodes.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..files import atomic_write

#: Bump when what is stored changes meaning.
ENCODER_VERSION = "1"


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_key(*parts: str) -> str:
    """sha256 over the parts (and the encoder version)."""
    h = hashlib.sha256(ENCODER_VERSION.encode())
    for part in parts:
        h.update(b"\0" + part.encode())
    return h.hexdigest()


class TensorCache:
    """Stores dicts of tensors by key under one folder; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, kind: str, key: str) -> Path:
        return self.root / "encoded" / kind / f"{key}.safetensors"

    def get(self, kind: str, key: str) -> dict[str, torch.Tensor] | None:
        """The stored tensors, or None on a miss (a corrupt file counts as a miss)."""
        path = self._path(kind, key)
        if not path.is_file():
            return None
        try:
            return load_file(str(path))
        except Exception:  # noqa: BLE001 - a torn or foreign file is re-encoded
            return None

    def put(self, kind: str, key: str, tensors: dict[str, torch.Tensor]) -> None:
        """Store tensors atomically."""
        out = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
        atomic_write(self._path(kind, key), lambda tmp: save_file(out, tmp), fsync=False)  # a torn entry is a miss
