"""(0004,1202) names a SERIES record, not the last root record."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = medium / "DICOMDIR"
    series = _lib.records(medium, "SERIES")[0]
    assert series.offset is not None
    at = path.read_bytes().index(b"\x04\x00\x02\x12UL\x04\x00") + 8
    _lib.set_ul(path, at, series.offset)
    return medium
