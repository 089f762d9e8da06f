"""The base medium mastered as an ISO 9660 Level 1 image."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    return _lib.master(medium, medium.parent / "base.iso")
