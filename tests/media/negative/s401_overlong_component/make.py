"""A Referenced File ID with a 300-character component."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    rec = next(r for _, r in walk if r.record_type == "RT DOSE")
    rec.file_id = ("PT000000", "A" * 300)
    _lib.rewrite(medium, roots)
    return medium
