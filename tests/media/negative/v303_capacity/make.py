"""An image larger than a CD holds (sparse, so it costs no disk)."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    image = _lib.master(medium, medium.parent / "huge.iso")
    with open(image, "r+b") as fp:
        fp.truncate(700 * 1000 * 1000)
    return image
