"""A ZIP medium with two members named like the first CT slice: the first a stray file.

zipfile's name lookup gives the last one; mediakit reads that one too and says
so (F204), rather than silently picking one.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    real = (medium / _lib.CT_FILE).read_bytes()
    (medium / _lib.CT_FILE).unlink()
    archive = _lib.zipped(medium)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile: "Duplicate name"
        with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_lib.CT_FILE, b"not the image")
            zf.writestr(_lib.CT_FILE, real)
    return archive
