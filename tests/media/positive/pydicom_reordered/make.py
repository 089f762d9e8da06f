"""pydicom's DICOMDIR-reordered: records out of sequence order, offsets adapted to it."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    return _lib.pydicom_tests(medium, "DICOMDIR-reordered")
