"""A subdirectory record whose extent is not a directory of the path table.

Found by fuzzing (tests/fuzz): two bytes changed in the root directory's
record of PT000000 made pycdlib raise KeyError while opening the image, and
check ended as an internal error. The record now points at the DICOMDIR's
extent, which no path table entry names.
"""

from __future__ import annotations

from pathlib import Path

from mediakit.iso import read_iso
from tests.media import _lib


def make(medium: Path) -> Path:
    image = _lib.master(medium, medium.parent / "pathtable.iso")
    with open(image, "rb") as fp:
        _, files, _ = read_iso(fp, str(image))
    dicomdir = next(f for f in files if f.path.startswith("DICOMDIR"))
    block = dicomdir.extents[0][0] // 2048
    _lib.set_subdirectory_extent(image, block)
    return image
