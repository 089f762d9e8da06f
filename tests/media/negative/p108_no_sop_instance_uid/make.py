"""A referenced file whose dataset lost its SOP Instance UID."""

from __future__ import annotations

from pathlib import Path

import pydicom

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "REGISTRATION")[0])
    ds = pydicom.dcmread(path)
    del ds.SOPInstanceUID
    _lib.save(ds, path)
    return medium
