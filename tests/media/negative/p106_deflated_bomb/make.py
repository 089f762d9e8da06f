"""An RT Plan in Deflated Explicit VR Little Endian that inflates to 300 MiB (~300 kB on disk).

pydicom inflates a deflated dataset whole, in memory; the header reader
inflates it first in counted chunks and refuses it past DEFLATED_LIMIT (P106).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pydicom
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian

from tests.media import _lib

ZEROS = 300 << 20


def make(medium: Path) -> Path:
    path = _lib.file_of(medium, _lib.records(medium, "RT PLAN")[0])
    ds = pydicom.dcmread(path)
    data = path.read_bytes()
    start = data.index(b"\x08\x00", 132 + 12)  # the dataset's first element, after group 0002
    while data[start : start + 2] == b"\x02\x00" or data[start + 2 : start + 4] == b"\x00\x00":
        start = data.index(b"\x08\x00", start + 2)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    with open(path, "wb") as fp:
        fp.write(bytes(128) + b"DICM")
        write_file_meta_info(fp, ds.file_meta)  # type: ignore[arg-type]
        fp.write(deflater.compress(data[start:]))
        creator = struct.pack("<HH2sH", 0x7FD1, 0x0010, b"LO", 4) + b"MKIT"
        value = struct.pack("<HH2sHL", 0x7FD1, 0x1000, b"OB", 0, ZEROS)
        fp.write(deflater.compress(creator + value))
        for _ in range(ZEROS >> 20):
            fp.write(deflater.compress(bytes(1 << 20)))
        fp.write(deflater.flush())
    return medium
