"""A DICOMDIR whose Media Storage SOP Class is not Media Storage Directory."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = medium / "DICOMDIR"
    at = path.read_bytes().index(b"1.2.840.10008.1.3.10")
    _lib.patch(path, at, b"1.2.840.10008.1.3.11")
    return medium
