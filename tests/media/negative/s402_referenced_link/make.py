"""A referenced file replaced by a link to a copy outside the medium."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT STRUCTURE SET")[0])
    outside = medium.parent / "outside.dcm"
    path.rename(outside)
    path.symlink_to(outside)
    return medium
