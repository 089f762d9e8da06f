"""A ZIP medium with a member of 80 MiB of zeros (about 80 kB deflated, 1000:1).

Beside the real File-set; it is refused (S405) from what its header says,
never inflated.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    archive = _lib.zipped(medium)
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("PT000000/BOMB", bytes(80 << 20))
    return archive
