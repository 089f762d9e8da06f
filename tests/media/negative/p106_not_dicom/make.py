"""A referenced file that is not DICOM at all."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    _lib.file_of(medium, _lib.records(medium, "RT STRUCTURE SET")[0]).write_text("not dicom\n" * 50)
    return medium
