r"""A Referenced File ID that is a Windows UNC path, \\SERVER\SHARE\EVIL: empty components first."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    rec = next(r for _, r in walk if r.record_type == "RT PLAN")
    rec.file_id = ("", "", "SERVER", "SHARE", "EVIL")
    _lib.rewrite(medium, roots)
    return medium
