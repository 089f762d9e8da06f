"""A record's Referenced SOP Instance UID in File differs from the file."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    dose = next(rec for _, rec in walk if rec.record_type == "RT DOSE")
    dose.sop_instance_uid = "2.25.99999"
    _lib.rewrite(medium, roots)
    return medium
