"""A record marked not in use (Record In-use Flag 0000H, dcm4che -d)."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    rec = _lib.records(medium, "RT TREAT RECORD")[0]
    assert rec.offset is not None
    _lib.patch(medium / "DICOMDIR", rec.offset + 8 + 12 + 8, b"\x00\x00")
    return medium
