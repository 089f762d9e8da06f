"""A series' lower-level offset points at its own STUDY record."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    study = _lib.records(medium, "STUDY")[0]
    image = _lib.records(medium, "IMAGE")[0]
    assert study.offset is not None and image.offset is not None
    _lib.set_ul(medium / "DICOMDIR", _lib.offset_value_at(image.offset, "lower"), study.offset)
    return medium
