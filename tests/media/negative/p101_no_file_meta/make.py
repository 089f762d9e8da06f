"""A referenced RT Plan written as a bare Explicit VR LE dataset: no preamble, no 'DICM'."""

from __future__ import annotations

from pathlib import Path

import pydicom

from tests.media import _lib


def make(medium: Path) -> Path:
    plan = _lib.file_of(medium, _lib.records(medium, "RT PLAN")[0])
    ds = pydicom.dcmread(plan)
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.preamble = None
    _lib.save(ds, plan, implicit_vr=False, little_endian=True)
    return medium
