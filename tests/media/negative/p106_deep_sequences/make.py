"""An RT Plan with 5000 nested sequences of undefined length."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT PLAN")[0])
    data = path.read_bytes()
    open_seq = struct.pack("<HH2sHL", 0x0009, 0x1010, b"SQ", 0, 0xFFFFFFFF)
    item = struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
    close = struct.pack("<HHL", 0xFFFE, 0xE00D, 0) + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    path.write_bytes(data + (open_seq + item) * 5000 + close * 5000)
    return medium
