"""One bit flipped in a CT slice's pixel data after the manifest was written."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    _lib.write_manifest(medium)
    path = _lib.file_of(medium, _lib.records(medium, "IMAGE")[0])
    data = path.read_bytes()
    _lib.patch(path, len(data) - 10, bytes([data[-10] ^ 0x01]))
    return medium
