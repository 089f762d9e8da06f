"""A next offset of 0xFFFFFFFF: -1 as a signed value, far past the end as an unsigned one."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    first = _lib.records(medium, "SERIES")[0]
    assert first.offset is not None
    _lib.set_ul(medium / "DICOMDIR", _lib.offset_value_at(first.offset, "next"), 0xFFFFFFFF)
    return medium
