"""An RT Plan followed by 2.1 million empty private elements (8 bytes each).

The header walk counts elements before pydicom sees them and refuses the
file past HEADER_ELEMENT_LIMIT (P106).
"""

from __future__ import annotations

import struct
from pathlib import Path

from tests.media import _lib

ELEMENTS = 2_100_000


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT PLAN")[0])
    creator = struct.pack("<HH2sH", 0x7FD1, 0x0010, b"LO", 0)  # after every standard group
    tiny = struct.pack("<HH2sH", 0x7FD1, 0x1000, b"LO", 0)
    with open(path, "ab") as fp:
        fp.write(creator + tiny * ELEMENTS)
    return medium
