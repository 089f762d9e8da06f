"""A '.dcm' added by an exporter (dcm4che #946): found with the extension."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT DOSE")[0])
    path.rename(path.with_name(path.name + ".dcm"))
    return medium
