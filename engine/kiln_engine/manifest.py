"""Reading the dataset manifest (ARCHITECTURE.md §6) with errors that name the bad line and field."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import BadDataset


@dataclass(frozen=True)
class Sample:
    """One manifest line, paths resolved against the manifest's folder."""

    id: str
    media: Path
    audio: Path | None
    caption: str
    width: int
    height: int
    frames: int
    fps: float

    @property
    def is_image(self) -> bool:
        """A still image (one frame)."""
        return self.frames == 1


def _dataset_file(folder: Path, root: Path, obj: dict, key: str, where: str) -> Path:
    """The resolved file that `obj[key]` names; it must exist inside the dataset folder (`root` is it resolved)."""
    file = (folder / obj[key]).resolve()
    if root not in file.parents:
        raise BadDataset(f"{where}: field '{key}' must stay inside the dataset folder")
    if not file.is_file():
        raise BadDataset(f"{where}: {key} file {obj[key]} does not exist in {folder}")
    return file


def read_manifest(path: Path) -> list[Sample]:
    """Parse and check manifest.jsonl; every referenced file must exist. Raises `BadDataset`."""
    if not path.is_file():
        raise BadDataset(f"manifest {path} does not exist; the dataset stage must write manifest.jsonl")
    folder = path.parent
    root = folder.resolve()
    samples: list[Sample] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadDataset(f"{where} is not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise BadDataset(f"{where} is not a JSON object")
        for key, kind in (("id", str), ("media", str), ("caption", str), ("width", int), ("height", int), ("frames", int)):
            if not isinstance(obj.get(key), kind) or isinstance(obj.get(key), bool):
                raise BadDataset(f"{where}: field '{key}' is missing or not a {kind.__name__}")
        fps = obj.get("fps", 25)
        if not isinstance(fps, (int, float)) or fps <= 0:
            raise BadDataset(f"{where}: field 'fps' must be a positive number")
        width, height, frames = obj["width"], obj["height"], obj["frames"]
        if width % 32 or height % 32 or width <= 0 or height <= 0:
            raise BadDataset(f"{where}: width and height must be positive multiples of 32, got {width}x{height}")
        if frames % 8 != 1:
            raise BadDataset(f"{where}: field 'frames' must be 8k+1 (1 for an image), got {frames}")
        media = _dataset_file(folder, root, obj, "media", where)
        audio = None
        if obj.get("audio") is not None:
            if not isinstance(obj["audio"], str):
                raise BadDataset(f"{where}: field 'audio' must be a file name or null")
            audio = _dataset_file(folder, root, obj, "audio", where)
        samples.append(Sample(id=obj["id"], media=media, audio=audio, caption=obj["caption"], width=width,
                              height=height, frames=frames, fps=float(fps)))
    if not samples:
        raise BadDataset(f"manifest {path} has no samples")
    return samples
