"""A file whose dataset is big endian while its File Meta says little."""

from __future__ import annotations

from pathlib import Path

import pydicom

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT PLAN")[0])
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRBigEndian
    path.unlink()
    pydicom.dcmwrite(path, ds, little_endian=False, implicit_vr=False, enforce_file_format=True)
    data = bytearray(path.read_bytes())
    at = data.index(b"1.2.840.10008.1.2.2\x00")
    data[at : at + 20] = b"1.2.840.10008.1.2.1\x00"  # the meta now lies
    path.write_bytes(bytes(data))
    return medium
