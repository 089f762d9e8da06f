"""A File ID with lowercase letters, matching the file exactly."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    rec = next(r for _, r in walk if r.record_type == "RT PLAN")
    assert rec.file_id is not None
    lower = (*rec.file_id[:-1], rec.file_id[-1].lower())
    _lib.file_of(medium, rec).rename(medium.joinpath(*lower))
    rec.file_id = lower
    _lib.rewrite(medium, roots)
    return medium
