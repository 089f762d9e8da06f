"""An executable-looking preamble (PS3.10 §7.5)."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    _lib.patch(_lib.instances(medium)[0], 0, b"MZ\x90\x00")
    return medium
