"""An image cut short inside its last file: that file's extent lies past the image's end."""

from __future__ import annotations

from pathlib import Path

from mediakit.iso import read_iso
from tests.media import _lib


def make(medium: Path) -> Path:
    image = _lib.master(medium, medium.parent / "cut.iso")
    with open(image, "r+b") as fp:
        _, files, _ = read_iso(fp, str(image))
        last = max(start for f in files for start, _ in f.extents)
        fp.truncate(last + 1024)
    return image
