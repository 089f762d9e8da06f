"""The image's Volume Identifier differs from the File-set ID."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    return _lib.master(medium, medium.parent / "other.iso", volume_id="OTHER")
