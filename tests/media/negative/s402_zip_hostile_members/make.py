"""A ZIP medium with hostile member names beside the real File-set.

Members named ../../EVIL, /abs/EVIL, C:/EVIL, ..\\..\\EVIL and
PT000000/../../EVIL, and a member that is a symbolic link to /etc/passwd:
each holds a valid instance of its own, so following one would import it.
zipfile keeps these names as written (ZipInfo, not ZipFile.write, which
would clean them).
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pydicom

from tests.media import _lib

HOSTILE = ("../../EVIL", "/abs/EVIL", "C:/EVIL", "..\\..\\EVIL", "PT000000/../../EVIL")


def make(medium: Path) -> Path:
    out = medium.parent / "hostile.zip"
    ds = pydicom.dcmread(_lib.file_of(medium, _lib.records(medium, "IMAGE")[0]))
    evil = medium.parent / "evil.dcm"
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(p for p in medium.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(medium).as_posix())
        for n, name in enumerate(HOSTILE):
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"2.25.77{n}"
            _lib.save(ds, evil)
            zf.writestr(zipfile.ZipInfo(name), evil.read_bytes())
        link = zipfile.ZipInfo("PT000000/LINK")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    evil.unlink()
    return out
