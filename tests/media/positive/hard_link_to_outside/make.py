"""A hard link to a file outside the medium: indistinguishable from a file, read, never written."""

from __future__ import annotations

import os
from pathlib import Path


def make(medium: Path) -> Path:
    outside = medium.parent / "outside-secret"
    outside.write_bytes(b"not for the medium\n")
    os.link(outside, medium / "PT000000" / "HARDLINK")
    return medium
