"""A record (and its file) of a SOP Class the record-type table does not know: a private one.

The record says IMAGE; nothing tells check whether that fits (D110 cannot judge), so D121.
"""

from __future__ import annotations

from pathlib import Path

import pydicom

from tests.media import _lib

PRIVATE_CLASS = "1.2.826.0.1.3680043.8.498.999.1"


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    rtimage = next(rec for _, rec in walk if rec.sop_class_uid == "1.2.840.10008.5.1.4.1.1.481.1")
    path = _lib.file_of(medium, rtimage)
    ds = pydicom.dcmread(path)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = PRIVATE_CLASS
    _lib.save(ds, path)
    rtimage.sop_class_uid = PRIVATE_CLASS
    _lib.rewrite(medium, roots)
    return medium
