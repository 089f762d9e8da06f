"""A Referenced File ID with a drive letter."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    rec = next(r for _, r in walk if r.record_type == "RT PLAN")
    rec.file_id = ("C:", "WINDOWS", "WIN")
    _lib.rewrite(medium, roots)
    return medium
