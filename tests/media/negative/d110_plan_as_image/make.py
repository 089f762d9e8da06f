"""An RT Plan under an IMAGE record, as GDCM gendir and Orthanc write it (media-facts §4)."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    for _, rec in walk:
        if rec.record_type == "RT PLAN":
            rec.record_type = "IMAGE"
    _lib.rewrite(medium, roots)
    return medium
