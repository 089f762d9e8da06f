"""One CS value with '/' separators that climb out: ../../../../OUTSIDE/EVIL.

A backslash cannot hide inside a component (CS splits on it), but a '/' can;
media-facts §8 reads '/' as a separator too, so the '..' are seen and refused.
The value replaces the RT plan's File ID byte for byte (same length).
"""

from __future__ import annotations

from pathlib import Path


def make(medium: Path) -> Path:
    path = medium / "DICOMDIR"
    data = path.read_bytes()
    old = b"PT000000\\ST000000\\SE000002\\IM000000 "
    hostile = b"../../../../OUTSIDE/EVIL"
    assert data.count(old) == 1
    path.write_bytes(data.replace(old, hostile.ljust(len(old))))
    return medium
