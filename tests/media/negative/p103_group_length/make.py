"""File Meta Group Length that does not match group 0002."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    _lib.set_ul(_lib.instances(medium)[0], 140, 9999)
    return medium
