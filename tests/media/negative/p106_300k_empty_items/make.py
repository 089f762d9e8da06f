"""An RT Plan whose header holds a sequence of 300,000 empty items.

pydicom would build an object for each (tens of seconds, hundreds of MB);
the header walk counts items first and refuses the file past
HEADER_ITEM_LIMIT (P106).
"""

from __future__ import annotations

import struct
from pathlib import Path

from tests.media import _lib

ITEMS = 300_000


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT PLAN")[0])
    data = path.read_bytes()
    at = data.index(b"\x08\x00\x16\x00UI")  # SOP Class UID: the dataset's first elements
    item = struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF) + struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
    sequence = struct.pack("<HH2sHL", 0x0008, 0x0006, b"SQ", 0, 0xFFFFFFFF)  # Language Code Seq
    sequence += item * ITEMS + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    path.write_bytes(data[:at] + sequence + data[at:])
    return medium
