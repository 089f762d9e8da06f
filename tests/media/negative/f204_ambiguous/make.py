"""Two files match one File ID when case is ignored."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "REGISTRATION")[0])
    shutil.copy(path, path.with_name(path.name.lower()))
    path.rename(path.with_name(path.name.capitalize()))
    return medium
