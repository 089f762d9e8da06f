"""The PATIENT record's name differs from every file's."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, _ = _lib.edit_tree(medium)
    roots[0].keys.PatientName = "SOMEONE^ELSE"
    _lib.rewrite(medium, roots)
    return medium
