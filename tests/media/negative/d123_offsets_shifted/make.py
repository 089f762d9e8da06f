"""Every offset off by 22 bytes (fo-dicom #828): snapped back, with a warning."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    path = medium / "DICOMDIR"
    data = path.read_bytes()
    for rec in _lib.parsed(medium).records:
        assert rec.offset is not None
        for which in ("next", "lower"):
            at = _lib.offset_value_at(rec.offset, which)
            value = int.from_bytes(data[at : at + 4], "little")
            if value:
                _lib.set_ul(path, at, value + 22)
    for tag in (b"\x04\x00\x00\x12UL\x04\x00", b"\x04\x00\x02\x12UL\x04\x00"):
        at = data.index(tag) + 8
        _lib.set_ul(path, at, int.from_bytes(data[at : at + 4], "little") + 22)
    return medium
