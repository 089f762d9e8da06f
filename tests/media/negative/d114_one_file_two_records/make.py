"""Two IMAGE records reference the same file."""

from __future__ import annotations

import copy
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, _ = _lib.edit_tree(medium)
    ct = roots[0].children[0].children[0]
    twin = copy.copy(ct.children[0])
    twin.children = []
    ct.children.append(twin)
    _lib.rewrite(medium, roots)
    return medium
