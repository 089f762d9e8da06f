"""A STUDY record without Study Date (Type 1)."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, _ = _lib.edit_tree(medium)
    del roots[0].children[0].keys.StudyDate
    _lib.rewrite(medium, roots)
    return medium
