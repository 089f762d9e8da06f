r"""A File ID holding an exporter's own Windows path, D:\EXPORT\PT000000\IM000000."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    roots, walk = _lib.edit_tree(medium)
    rec = next(r for _, r in walk if r.record_type == "RT DOSE")
    rec.file_id = ("D:", "EXPORT", "PT000000", "IM000000")
    _lib.rewrite(medium, roots)
    return medium
