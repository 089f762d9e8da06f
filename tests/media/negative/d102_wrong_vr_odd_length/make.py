"""DICOMDIR keys with an unknown VR and an odd length."""

from __future__ import annotations

from pathlib import Path


def make(medium: Path) -> Path:
    path = medium / "DICOMDIR"
    data = bytearray(path.read_bytes())
    at = data.index(b"\x10\x00\x10\x00PN")  # the PATIENT record's Patient's Name
    data[at + 4 : at + 6] = b"ZZ"
    at = data.index(b"\x20\x00\x0d\x00UI", at)  # a STUDY's Study Instance UID
    length = int.from_bytes(data[at + 6 : at + 8], "little")
    data[at + 6 : at + 8] = (length - 1).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return medium
