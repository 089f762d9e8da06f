"""pydicom's DICOMDIR-bigEnd: a DICOMDIR in Explicit VR Big Endian."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    return _lib.pydicom_tests(medium, "DICOMDIR-bigEnd")
