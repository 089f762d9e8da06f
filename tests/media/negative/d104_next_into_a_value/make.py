"""A next offset that lands in the middle of another record's Referenced File ID value."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    first, second = _lib.records(medium, "IMAGE")[:2]
    assert first.offset is not None and second.offset is not None
    data = (medium / "DICOMDIR").read_bytes()
    inside = data.index(b"IM0000", second.offset) + 3  # within the File ID's characters
    _lib.set_ul(medium / "DICOMDIR", _lib.offset_value_at(first.offset, "next"), inside)
    return medium
