"""The Offset of the First Record of the Root Directory Entity is 0xFFFFFFFF."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = medium / "DICOMDIR"
    at = path.read_bytes().index(b"\x04\x00\x00\x12UL\x04\x00") + 8
    _lib.set_ul(path, at, 0xFFFFFFFF)
    return medium
