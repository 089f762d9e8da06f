"""A Referenced File ID with a NUL byte inside a component."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    rec = next(r for _, r in walk if r.record_type == "RT DOSE")
    assert rec.file_id is not None
    rec.file_id = (*rec.file_id[:-1], "IM\x00../X")
    _lib.rewrite(medium, roots)
    return medium
