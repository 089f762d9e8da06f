"""A group 0002 element (Source AE Title) after the last element of an RT Plan's dataset."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    plan = _lib.file_of(medium, _lib.records(medium, "RT PLAN")[0])
    value = b"TPS_EXPORT"
    with open(plan, "ab") as fp:
        fp.write(struct.pack("<HH2sH", 0x0002, 0x0016, b"AE", len(value)) + value)
    return medium
