"""The base medium as a ZIP archive."""

from __future__ import annotations

import zipfile
from pathlib import Path


def make(medium: Path) -> Path:
    out = medium.parent / "base.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(p for p in medium.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(medium).as_posix())
    return out
