"""A SERIES record with nothing below it."""

from __future__ import annotations

import copy
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, _ = _lib.edit_tree(medium)
    study = roots[0].children[0]
    empty = copy.copy(study.children[0])
    empty.children = []
    empty.keys = copy.deepcopy(empty.keys)
    empty.keys.SeriesInstanceUID = "2.25.777"
    study.children.append(empty)
    _lib.rewrite(medium, roots)
    return medium
