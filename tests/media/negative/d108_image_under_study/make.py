"""A CT IMAGE record moved up under the STUDY record."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, _ = _lib.edit_tree(medium)
    study = roots[0].children[0]
    ct = study.children[0]
    study.children.append(ct.children.pop())
    _lib.rewrite(medium, roots)
    return medium
