"""A DICOMDIR cut in the middle of a record."""

from __future__ import annotations

from pathlib import Path


def make(medium: Path) -> Path:
    path = medium / "DICOMDIR"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3 + 5])
    return medium
