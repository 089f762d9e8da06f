"""An element declaring a 4 GiB value in a 3 kB file: never allocated."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT PLAN")[0])
    data = path.read_bytes()
    at = data.index(b"\x08\x00\x16\x00UI")  # SOP Class UID: the dataset's first elements
    element = struct.pack("<HH2sHL", 0x0008, 0x0001, b"UN", 0, 0xFFFFFFF0)
    path.write_bytes(data[:at] + element + data[at:])
    return medium
