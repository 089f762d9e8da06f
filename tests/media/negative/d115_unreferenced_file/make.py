"""A DICOM file on the medium that no record references."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    source = _lib.instances(medium)[0]
    shutil.copy(source, medium / "PT000000" / "EXTRA")
    return medium
