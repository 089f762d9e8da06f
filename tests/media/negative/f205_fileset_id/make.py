"""A File-set ID with characters CS does not allow."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, _ = _lib.edit_tree(medium)
    _lib.rewrite(medium, roots, fileset_id="bad-id")
    return medium
