"""A referenced CT slice that is a 0-byte file."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    _lib.file_of(medium, _lib.records(medium, "IMAGE")[0]).write_bytes(b"")
    return medium
