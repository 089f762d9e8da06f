"""A lower-level offset past the end of the DICOMDIR."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    series = _lib.records(medium, "SERIES")[-1]
    assert series.offset is not None
    _lib.set_ul(medium / "DICOMDIR", _lib.offset_value_at(series.offset, "lower"), 0x7FFFFFF0)
    return medium
