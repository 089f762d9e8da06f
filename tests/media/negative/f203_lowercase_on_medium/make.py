"""Files renamed to lowercase by a copy (Weasis #272): found ignoring case."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT PLAN")[0])
    path.rename(path.with_name(path.name.lower()))
    return medium
