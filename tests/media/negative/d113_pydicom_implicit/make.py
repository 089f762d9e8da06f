"""pydicom's DICOMDIR-implicit: a DICOMDIR in Implicit VR."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    return _lib.pydicom_tests(medium, "DICOMDIR-implicit")
