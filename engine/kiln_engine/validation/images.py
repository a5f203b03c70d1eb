"""Conditioning images for image-to-video validation: local paths and file:// URLs."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import torch
from PIL import Image, UnidentifiedImageError

from ltx_pipelines.utils.media_io import load_image_conditioning

from ..errors import BadSpec


def image_path(url_or_path: str, base_dir: Path | None = None) -> Path:
    """The local file an `image_url` names; http(s) URLs must have been downloaded by the worker."""
    parsed = urlparse(url_or_path)
    if parsed.scheme in ("http", "https"):
        raise BadSpec(f"validation image_url {url_or_path} is remote; the worker downloads images into the job folder and passes a local path")
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif parsed.scheme in ("", None) or len(parsed.scheme) == 1:  # a plain path (or a Windows drive letter)
        path = Path(url_or_path)
    else:
        raise BadSpec(f"validation image_url {url_or_path} has an unsupported scheme {parsed.scheme!r}; use a local path or file:// URL")
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise BadSpec(f"validation image {path} does not exist")
    try:
        with Image.open(path) as img:
            img.verify()
    except (UnidentifiedImageError, OSError) as exc:
        raise BadSpec(f"validation image {path} is not a readable image: {exc}") from None
    return path


def image_pixels(path: Path, width: int, height: int) -> torch.Tensor:
    """[1, 3, 1, H, W] in [-1, 1]: cover-resized and centre-cropped to the validation size.

    Goes through ltx-pipelines' loader, which also round-trips the image through H.264 (CRF 33)
    as the reference pipeline does, so the first frame looks like video the model has seen.
    """
    return load_image_conditioning(str(path), height=height, width=width, dtype=torch.float32, device=torch.device("cpu"))
