"""The limits of README "Limits" (issue 8): each is reached, said, and bounds the work.

The limits are patched down where reaching the real one would cost the suite
minutes; the corpus cases (tests/media/negative/p106_*, s405_zip_bomb) reach
the real ones.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections import Counter

import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

import mediakit.dicomdir.parse as parse
import mediakit.headerlimits as headerlimits
import mediakit.part10 as part10
from mediakit.errors import DamagedFileError
from tests.test_dicomdir_encode import encoded, rt_tree

CT = "1.2.840.10008.5.1.4.1.1.2"


def _codes(data: bytes) -> Counter[str]:
    return Counter(f.code for f in parse.parse_dicomdir(data).findings)


def test_the_record_budget_stops_the_parse_with_d102(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encoded()
    whole = len(parse.parse_dicomdir(data).records)
    monkeypatch.setattr(parse, "RECORD_LIMIT", 5)
    cut = parse.parse_dicomdir(data)
    assert len(cut.records) == 5 < whole
    (d102,) = [f for f in cut.findings if f.code == "D102"]
    assert "more than 5 records: the rest of the DICOMDIR is not read" in d102.message


def test_the_key_budget_stops_the_parse_with_d102(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encoded()
    monkeypatch.setattr(parse, "KEY_LIMIT", 10)
    cut = parse.parse_dicomdir(data)
    assert sum(len(r.keys) for r in cut.records) <= 10 + max(len(r.keys) for r in cut.records)
    assert any("more than 10 keys" in f.message for f in cut.findings if f.code == "D102")


def test_a_dicomdir_within_the_budget_has_no_budget_finding() -> None:
    assert "D102" not in _codes(encoded(rt_tree(patients=3)))


def test_a_deflated_dicomdir_is_refused_never_inflated() -> None:
    """Deflated Explicit VR LE (PS3.5 A.5) is not a DICOMDIR syntax (PS3.11 D.3.2): D102 + D113
    or D102 alone, and the parse never inflates it (a 1 GiB bomb costs nothing)."""
    data = encoded()
    start = data.index(b"\x04\x00", 132 + 12)
    meta_end = start
    ds = pydicom.dcmread(io.BytesIO(data))
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    out = io.BytesIO()
    out.write(bytes(128) + b"DICM")
    write_file_meta_info(out, ds.file_meta)  # type: ignore[arg-type]
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    out.write(deflater.compress(data[meta_end:]))
    for _ in range(1024):
        out.write(deflater.compress(bytes(1 << 20)))
    out.write(deflater.flush())
    parsed = parse.parse_dicomdir(out.getvalue())
    assert not parsed.records
    assert "D102" in {f.code for f in parsed.findings}


def _part10(dataset: bytes, syntax: str = ExplicitVRLittleEndian) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT
    meta.MediaStorageSOPInstanceUID = "2.25.1"
    meta.TransferSyntaxUID = syntax
    out = io.BytesIO()
    out.write(bytes(128) + b"DICM")
    write_file_meta_info(out, meta)
    out.write(dataset)
    return out.getvalue()


def _element(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


_UIDS = _element(0x0008, 0x0016, b"UI", CT.encode()) + _element(0x0008, 0x0018, b"UI", b"2.25.1")


def _header_error(data: bytes) -> DamagedFileError:
    with pytest.raises(DamagedFileError) as caught:
        part10.read_header_stream(io.BytesIO(data), len(data), where="F")
    return caught.value


def test_too_many_items_in_a_header_is_p106(monkeypatch: pytest.MonkeyPatch) -> None:
    item = struct.pack("<HHL", 0xFFFE, 0xE000, 0) * 101
    seq = struct.pack("<HH2sHL", 0x0008, 0x0006, b"SQ", 0, len(item)) + item
    data = _part10(seq + _UIDS)
    assert part10.read_header_stream(io.BytesIO(data), len(data), where="F").sop_instance_uid
    monkeypatch.setattr(headerlimits, "HEADER_ITEM_LIMIT", 100)
    exc = _header_error(data)
    assert exc.code == "P106" and "more than 100 items in its header" in exc.detail


def test_too_many_elements_before_the_pixels_is_p106(monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = _element(0x7FD1, 0x0010, b"LO", b"MKIT") + _element(0x7FD1, 0x1000, b"LO", b"") * 50
    pixels = struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, 2) + b"\0\0"
    after = _element(0xFFFC, 0xFFFC, b"OB", b"") * 200  # after the pixels: not counted
    data = _part10(_UIDS + tiny + pixels + after)
    monkeypatch.setattr(headerlimits, "HEADER_ELEMENT_LIMIT", 60)
    assert part10.read_header_stream(io.BytesIO(data), len(data), where="F").sop_instance_uid
    monkeypatch.setattr(headerlimits, "HEADER_ELEMENT_LIMIT", 40)
    exc = _header_error(data)
    assert exc.code == "P106" and "more than 40 elements in its header" in exc.detail


def test_a_deflated_dataset_past_the_limit_is_p106(monkeypatch: pytest.MonkeyPatch) -> None:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    big = struct.pack("<HH2sHL", 0x7FD1, 0x1000, b"OB", 0, 4 << 20)
    body = deflater.compress(_UIDS + _element(0x7FD1, 0x0010, b"LO", b"MKIT") + big)
    body += deflater.compress(bytes(4 << 20)) + deflater.flush()
    data = _part10(body, DeflatedExplicitVRLittleEndian)
    assert part10.read_header_stream(io.BytesIO(data), len(data), where="F").sop_instance_uid
    monkeypatch.setattr(headerlimits, "DEFLATED_LIMIT", 1 << 20)
    exc = _header_error(data)
    assert exc.code == "P106" and "inflates past 1 MiB" in exc.detail
