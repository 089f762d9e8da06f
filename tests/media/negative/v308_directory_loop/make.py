"""An ISO whose subdirectory record points back at the root directory's extent."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    image = _lib.master(medium, medium.parent / "loop.iso")
    _lib.loop_iso_directory(image)
    return image
