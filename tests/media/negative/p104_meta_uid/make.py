"""Media Storage SOP Instance UID differs from the dataset's (pydicom's rtplan.dcm)."""

from __future__ import annotations

from pathlib import Path

import pydicom

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.instances(medium)[0]
    data = path.read_bytes()
    uid = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID.encode()
    at = data.index(uid)  # the first copy is the File Meta's (0002,0003)
    _lib.patch(path, at + len(uid) - 1, b"9" if uid[-1:] != b"9" else b"8")
    return medium
