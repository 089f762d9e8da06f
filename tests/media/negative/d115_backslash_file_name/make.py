r"""A DICOM file whose name on the medium is ..\..\EVIL (one name: Linux allows backslashes).

No File ID can name it (CS splits on backslash); import finds it by scanning
and stores it by its UIDs, never under its name.
"""

from __future__ import annotations

from pathlib import Path

import pydicom

from tests.media import _lib


def make(medium: Path) -> Path:
    source = _lib.file_of(medium, _lib.records(medium, "IMAGE")[0])
    ds = pydicom.dcmread(source)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "2.25.4242"
    _lib.save(ds, medium / "..\\..\\EVIL")
    return medium
