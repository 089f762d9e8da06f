"""An absolute Referenced File ID."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    rec = next(r for _, r in walk if r.record_type == "RT PLAN")
    rec.file_id = ("", "etc", "passwd")
    _lib.rewrite(medium, roots)
    return medium
