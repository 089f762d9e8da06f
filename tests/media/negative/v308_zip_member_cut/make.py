"""A ZIP medium whose first CT slice is cut: the second half of its compressed bytes zeroed.

The deflate stream then ends early or inflates to the wrong bytes: either way
one damaged member (V308), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    archive = _lib.zipped(medium)
    start, size = _lib.member_data(archive, _lib.CT_FILE)
    data = bytearray(archive.read_bytes())
    data[start + size // 2 : start + size] = bytes(size - size // 2)
    archive.write_bytes(bytes(data))
    return archive
