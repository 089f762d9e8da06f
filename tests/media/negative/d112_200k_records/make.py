"""A DICOMDIR of 200,000 IMAGE records whose files are absent."""

from __future__ import annotations

import copy
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, _ = _lib.edit_tree(medium)
    ct = roots[0].children[0].children[0]
    template = ct.children[0]
    for n in range(200_000):
        rec = copy.copy(template)
        rec.file_id = ("PT000000", "ST000000", "SE000000", f"X{n:07d}")
        rec.sop_instance_uid = f"2.25.{n}"
        ct.children.append(rec)
    _lib.rewrite(medium, roots)
    return medium
