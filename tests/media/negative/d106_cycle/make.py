"""The second CT image's next offset points back at the first: a loop."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    first, second = _lib.records(medium, "IMAGE")[:2]  # two CT slices of one series
    assert first.offset is not None and second.offset is not None
    _lib.set_ul(medium / "DICOMDIR", _lib.offset_value_at(second.offset, "next"), first.offset)
    return medium
