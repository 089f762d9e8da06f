"""pydicom's test File-set (written by dcmmkdir); its images have non-zero preambles."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    return _lib.pydicom_tests(medium, "DICOMDIR")
