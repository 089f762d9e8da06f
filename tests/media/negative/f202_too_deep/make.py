"""A File ID of 9 components."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    rec = next(r for _, r in walk if r.record_type == "RT DOSE")
    deep = ("PT000000", "A", "B", "C", "D", "E", "F", "G", "IM000000")
    target = medium.joinpath(*deep)
    target.parent.mkdir(parents=True)
    _lib.file_of(medium, rec).rename(target)
    rec.file_id = deep
    _lib.rewrite(medium, roots)
    return medium
