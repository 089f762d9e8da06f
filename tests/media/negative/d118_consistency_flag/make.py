"""File-set Consistency Flag not zero."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = medium / "DICOMDIR"
    at = path.read_bytes().index(b"\x04\x00\x12\x12US\x02\x00") + 8
    _lib.patch(path, at, b"\xff\xff")
    return medium
