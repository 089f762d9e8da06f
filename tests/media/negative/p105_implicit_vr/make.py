"""An instance in Implicit VR Little Endian on a STD-GEN-CD medium (typical TPS output)."""

from __future__ import annotations

from pathlib import Path

import pydicom

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT DOSE")[0])
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    _lib.save(ds, path, enforce_file_format=True)
    return medium
