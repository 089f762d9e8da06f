"""Two SERIES records with one Series Instance UID."""

from __future__ import annotations

import copy
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, _ = _lib.edit_tree(medium)
    study = roots[0].children[0]
    ct = study.children[0]
    twin = copy.copy(ct)
    twin.children = [ct.children.pop()]
    study.children.insert(1, twin)
    _lib.rewrite(medium, roots)
    return medium
