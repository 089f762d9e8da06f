"""A ZIP medium whose first CT slice has a stored CRC-32 that does not match its bytes.

Reading that member ends in zipfile's BadZipFile: one V308 finding for it, the
other members still checked and imported.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    archive = _lib.zipped(medium)
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(_lib.CT_FILE)
    data = bytearray(archive.read_bytes())
    wrong = struct.pack("<I", info.CRC ^ 0xFFFF)
    data[info.header_offset + 14 : info.header_offset + 18] = wrong  # local header
    central = data.index(b"PK\x01\x02")  # the central directory's first entry
    while data[central + 46 : central + 46 + len(_lib.CT_FILE)] != _lib.CT_FILE.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 16 : central + 20] = wrong
    archive.write_bytes(bytes(data))
    return archive
