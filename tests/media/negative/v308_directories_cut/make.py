"""An image cut in half through its directory extents: pycdlib cannot list it."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    image = _lib.master(medium, medium.parent / "half.iso")
    with open(image, "r+b") as fp:
        fp.truncate(image.stat().st_size // 2)
    return image
