"""A medium without a DICOMDIR: listed by scanning."""

from __future__ import annotations

from pathlib import Path


def make(medium: Path) -> Path:
    (medium / "DICOMDIR").unlink()
    return medium
