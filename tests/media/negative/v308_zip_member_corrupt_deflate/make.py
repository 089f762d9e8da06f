"""A ZIP medium whose first CT slice's deflate stream is garbled (zlib.error on reading)."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    archive = _lib.zipped(medium)
    start, _ = _lib.member_data(archive, _lib.CT_FILE)
    data = bytearray(archive.read_bytes())
    for at in range(start + 10, start + 60):
        data[at] ^= 0x55
    archive.write_bytes(bytes(data))
    return archive
