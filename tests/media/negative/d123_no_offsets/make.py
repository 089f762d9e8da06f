"""Every offset zero (dcdirmk -dirrecorder, the Philips media): tree rebuilt from record order."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = medium / "DICOMDIR"
    data = path.read_bytes()
    for rec in _lib.parsed(medium).records:
        assert rec.offset is not None
        _lib.set_ul(path, _lib.offset_value_at(rec.offset, "next"), 0)
        _lib.set_ul(path, _lib.offset_value_at(rec.offset, "lower"), 0)
    for tag in (b"\x04\x00\x00\x12UL\x04\x00", b"\x04\x00\x02\x12UL\x04\x00"):
        _lib.set_ul(path, data.index(tag) + 8, 0)
    return medium
