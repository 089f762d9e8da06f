"""A lower-level offset just past the end of the DICOMDIR (its size plus 8)."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    series = _lib.records(medium, "SERIES")[-1]
    assert series.offset is not None
    path = medium / "DICOMDIR"
    _lib.set_ul(path, _lib.offset_value_at(series.offset, "lower"), path.stat().st_size + 8)
    return medium
