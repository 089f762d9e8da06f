"""A referenced CT slice is not on the medium (dcm_qa_ct, vtk-dicom #119)."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    _lib.file_of(medium, _lib.records(medium, "IMAGE")[0]).unlink()
    return medium
