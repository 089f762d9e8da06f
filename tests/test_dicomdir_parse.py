"""dicomdir.parse: any DICOMDIR, damaged or hostile, gives records and findings, never a crash."""

from __future__ import annotations

import copy
import random
import struct
import time
from collections import Counter
from io import BytesIO

import pydicom
import pytest
from pydicom.dataset import Dataset

from mediakit.dicomdir.encode import encode_dicomdir
from mediakit.dicomdir.model import Record, walk_all
from mediakit.dicomdir.parse import MAX_NESTING, ParsedDirectory, parse_dicomdir
from tests.conftest import SHARED_TESTDATA, pydicom_file
from tests.test_dicomdir_encode import CT, ELE, ITEM, encoded, rt_tree

QA_CT = SHARED_TESTDATA / "dcm_qa_ct"
PYDICOM_SHAPE = {"PATIENT": 2, "STUDY": 6, "SERIES": 13, "IMAGE": 31}
# (0004,1200), (0004,1202) and (0004,1212) as our encoder writes them: tag, VR, length
FIRST, LAST, FLAG = (
    b"\x04\x00\x00\x12UL\x04\x00",
    b"\x04\x00\x02\x12UL\x04\x00",
    b"\x04\x00\x12\x12US\x02\x00",
)


def codes(parsed: ParsedDirectory) -> Counter[str]:
    return Counter(f.code for f in parsed.findings)


def shape(roots: list[Record]) -> dict[str, int]:
    return dict(Counter(r.record_type for _, r in walk_all(roots)))


def outline(roots: list[Record]) -> list[tuple[int, str, tuple[str, ...] | None, str | None]]:
    return [(d, r.record_type, r.file_id, r.sop_instance_uid) for d, r in walk_all(roots)]


def put(data: bytes, at: int, value: int, fmt: str = "<L") -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, at, value)
    return bytes(out)


def header_value(data: bytes, tag: bytes) -> int:
    """Where the value of a top-level group 0004 element of our encoder's output starts."""
    return data.index(tag) + 8


def nxt(offset: int) -> int:
    """Position of a record's (0004,1400) value: item header 8 + element header 8."""
    return offset + 16


def low(offset: int) -> int:
    """Position of a record's (0004,1420) value, after (0004,1400) UL and (0004,1410) US."""
    return offset + 38


@pytest.fixture(scope="module")
def good() -> tuple[bytes, ParsedDirectory]:
    data = encoded()
    return data, parse_dicomdir(data)


# --- round trip --------------------------------------------------------------------------


def test_round_trip_gives_the_same_tree(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    assert parsed.findings == ()
    assert outline(parsed.roots) == outline(rt_tree())
    assert len(parsed.records) == len(parsed.reachable) == len(outline(rt_tree()))
    assert parsed.fileset_id == "MKTEST01" and parsed.fileset_uid == "1.2.3.4.5"
    assert parsed.media_storage_sop_class == "1.2.840.10008.1.3.10"
    assert parsed.transfer_syntax == ELE and parsed.consistency_flag == 0
    for rec in parsed.records:
        assert rec.offset is not None and data[rec.offset : rec.offset + 4] == ITEM
    assert parsed.roots[0].offset == struct.unpack_from("<L", data, header_value(data, FIRST))[0]
    assert parsed.roots[-1].offset == struct.unpack_from("<L", data, header_value(data, LAST))[0]


def test_round_trip_keeps_fields_and_keys(good: tuple[bytes, ParsedDirectory]) -> None:
    _, parsed = good
    for (_, mine), (_, theirs) in zip(walk_all(rt_tree()), walk_all(parsed.roots), strict=True):
        assert (theirs.sop_class_uid, theirs.transfer_syntax) == (
            mine.sop_class_uid,
            mine.transfer_syntax,
        )
        assert theirs.in_use == 0xFFFF
        assert [e.tag for e in theirs.keys] == [e.tag for e in mine.keys]
        assert all(e.tag.group != 0x0004 for e in theirs.keys)
        for elem in mine.keys:
            assert str(theirs.keys[elem.tag].value) == str(elem.value), elem.keyword
    assert str(parsed.roots[1].keys.PatientName) == "MÜLLER^HANS"  # decoded with ISO_IR 100


def test_reencoding_parsed_records_gives_the_same_bytes(
    good: tuple[bytes, ParsedDirectory],
) -> None:
    data, parsed = good
    assert encode_dicomdir(parsed.roots, fileset_id="MKTEST01", fileset_uid="1.2.3.4.5") == data


def test_offsets_agree_with_pydicom_seq_item_tell(good: tuple[bytes, ParsedDirectory]) -> None:
    """pydicom's seq_item_tell is the Item tag's absolute position, preamble included."""
    for data in (good[0], pydicom_file("DICOMDIR").read_bytes()):
        items = pydicom.dcmread(BytesIO(data)).DirectoryRecordSequence
        assert [i.seq_item_tell for i in items] == [r.offset for r in parse_dicomdir(data).records]


def test_file_ids_split_on_slashes_too() -> None:
    rec = Record("IMAGE", file_id=("DICOM/IM1",), sop_class_uid=CT, sop_instance_uid="1.2")
    other = Record("IMAGE", file_id=("DICOM", "IM2"), sop_class_uid=CT, sop_instance_uid="1.3")
    parsed = parse_dicomdir(encode_dicomdir([rec, other], fileset_id="", fileset_uid="1.2"))
    assert [r.file_id for r in parsed.records] == [("DICOM", "IM1"), ("DICOM", "IM2")]


# --- pydicom's test DICOMDIRs and real vendor media ----------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "found"),
    [
        ("DICOMDIR", PYDICOM_SHAPE, {}),
        ("DICOMDIR-implicit", PYDICOM_SHAPE, {"D113": 1}),
        ("DICOMDIR-bigEnd", PYDICOM_SHAPE, {"D113": 1}),
        ("DICOMDIR-reordered", PYDICOM_SHAPE, {}),
        # Zero offsets deleted, but the last item's length was not shortened with them.
        ("DICOMDIR-nooffset", PYDICOM_SHAPE, {"D102": 1}),
        ("DICOMDIR-empty.dcm", {}, {}),
        # Root offsets point at an IMAGE record that leads nowhere.
        ("DICOMDIR-nopatient", {"IMAGE": 1}, {"D107": 1}),
    ],
)
def test_pydicom_test_dicomdirs(name: str, expected: dict[str, int], found: dict[str, int]) -> None:
    parsed = parse_dicomdir(pydicom_file(name).read_bytes(), where=name)
    assert shape(parsed.roots) == expected
    assert codes(parsed) == Counter(found)
    assert parsed.fileset_id == "PYDICOM_TEST"


def test_pydicom_variants_decode_the_same_keys() -> None:
    def names(name: str) -> list[str]:
        parsed = parse_dicomdir(pydicom_file(name).read_bytes())
        return [
            str(r.keys.get("PatientName", "")) + str(r.file_id) for _, r in walk_all(parsed.roots)
        ]

    reference = names("DICOMDIR")
    for name in ("DICOMDIR-implicit", "DICOMDIR-bigEnd", "DICOMDIR-reordered"):
        assert names(name) == reference, name


@pytest.mark.parametrize("name", ["DICOMDIR", "DICOMDIR-implicit", "DICOMDIR-bigEnd"])
def test_keys_are_made_when_first_used(name: str) -> None:
    """get_item reads a key without making the Dataset; keys then gives the one pydicom
    would read, in the record's encoding, and get_item sees what is set in it."""
    records = parse_dicomdir(pydicom_file(name).read_bytes()).records
    reference = pydicom.dcmread(pydicom_file(name)).DirectoryRecordSequence
    patient = records[0]
    assert patient.record_type == "PATIENT" and patient._keys is None
    raw = patient.get_item(0x00100010)
    assert raw is not None and raw.value.rstrip(b" ") == b"Doe^Archibald"
    assert patient._keys is None  # still no Dataset
    assert patient.get_item(0x00100030) is None
    assert patient.keys.original_encoding == (
        name == "DICOMDIR-implicit",
        name != "DICOMDIR-bigEnd",
    )
    for rec, item in zip(records, reference, strict=True):
        for elem in item:
            if elem.tag.group > 0x0004:
                assert rec.keys[elem.tag].value == elem.value, (rec, elem.keyword)
    patient.keys.PatientID = "CHANGED"
    changed = patient.get_item(0x00100020)
    assert changed is not None and changed.value == "CHANGED"
    other = Record("PATIENT", elements={}, make_keys=lambda e: Dataset(e))
    assert other.get_item(0x00100010) is None and len(other.keys) == 0
    with pytest.raises(TypeError):
        Record("PATIENT", elements={})


def test_copies_of_a_record_share_its_keys_and_each_can_make_them() -> None:
    """copy.copy of a parsed record (as the corpus cases do) shares its elements: the
    first Dataset made decodes the character set in place; the next must still work."""
    original = parse_dicomdir(pydicom_file("DICOMDIR").read_bytes()).records[0]
    copy_ = copy.copy(original)
    assert str(original.keys.SpecificCharacterSet) == "ISO_IR 100"
    assert str(copy_.keys.PatientName) == "Doe^Archibald"


@pytest.mark.skipif(not QA_CT.is_dir(), reason="shared dcm_qa_ct test data not present")
def test_vendor_dicomdir_with_445_records() -> None:
    parsed = parse_dicomdir((QA_CT / "DICOMDIR").read_bytes())
    assert parsed.findings == ()
    assert shape(parsed.roots) == {"PATIENT": 1, "STUDY": 2, "SERIES": 9, "IMAGE": 433}
    assert len(parsed.records) == len(parsed.reachable) == 445
    folders = Counter(f[:2] for r in parsed.records if (f := r.file_id))
    assert folders == {("DICOM", "S21610"): 118, ("DICOM", "S21570"): 315}  # files absent


@pytest.mark.skipif(not QA_CT.is_dir(), reason="shared dcm_qa_ct test data not present")
def test_philips_multilevel_dicomdir() -> None:
    """STUDY records pointing at lower-level DIRFILEs, no offsets at all (pydicom: KeyError)."""
    parsed = parse_dicomdir((QA_CT / "In" / "Philips" / "DICOMDIR").read_bytes())
    assert codes(parsed) == Counter({"D107": 1, "D123": 1})
    assert [r.record_type for r in parsed.roots] == ["STUDY", "STUDY"]
    assert [r.file_id for r in parsed.roots] == [("S21610", "DIRFILE"), ("S21570", "DIRFILE")]
    assert parsed.roots[0].keys.StudyDescription == "1A TRAUMA/PLAIN HEAD DM"
    images = 0
    for dirfile in sorted((QA_CT / "In" / "Philips").rglob("DIRFILE")):  # lower-level files
        lower = parse_dicomdir(dirfile.read_bytes(), where=str(dirfile))
        assert codes(lower) == Counter({"D107": 1, "D123": 1}), dirfile
        images += shape(lower.roots).get("IMAGE", 0)
    assert images == 433


# --- damaged offsets ---------------------------------------------------------------------


def _image_offsets(parsed: ParsedDirectory) -> list[int]:
    return [r.offset for r in parsed.records if r.record_type == "IMAGE" and r.offset is not None]


def test_next_pointing_back_is_a_cycle(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    images = _image_offsets(parsed)
    start = time.perf_counter()
    result = parse_dicomdir(put(data, nxt(images[2]), images[0]))
    assert time.perf_counter() - start < 1
    assert codes(result) == Counter({"D106": 1})
    assert len(outline(result.roots)) == len(parsed.records)


def test_self_loop_and_lower_level_to_ancestor(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    patient, study, series = (r.offset for r in parsed.records[:3])
    assert patient is not None and study is not None and series is not None
    looped = parse_dicomdir(put(data, nxt(series), series))
    assert codes(looped)["D106"] == 1
    to_ancestor = parse_dicomdir(put(data, low(series), patient))
    assert codes(to_ancestor) == Counter({"D106": 1})
    assert shape(to_ancestor.roots) == {
        "PATIENT": 2, "STUDY": 2, "SERIES": 8, "IMAGE": 3, "RT STRUCTURE SET": 2, "RT PLAN": 2,
        "RT DOSE": 2,
    }  # fmt: skip


def test_two_parents_share_one_entity(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    studies = [r for r in parsed.records if r.record_type == "STUDY"]
    first_series = studies[0].children[0].offset
    assert first_series is not None and studies[1].offset is not None
    result = parse_dicomdir(put(data, low(studies[1].offset), first_series))
    assert codes(result) == Counter({"D106": 1})
    assert len(result.reachable) == len(parsed.records) - 4 - 6  # the second study's series


def test_offsets_past_the_end(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    beyond = len(data) + 1000
    study = parsed.records[1].offset
    assert study is not None
    broken_next = parse_dicomdir(put(data, nxt(parsed.roots[0].offset or 0), beyond))
    assert codes(broken_next) == Counter({"D104": 1, "D107": 1})
    assert len(broken_next.records) - len(broken_next.reachable) == 12  # the second patient
    broken_lower = parse_dicomdir(put(data, low(study), beyond))
    assert codes(broken_lower) == Counter({"D105": 1})
    broken_first = parse_dicomdir(put(data, header_value(data, FIRST), beyond))
    assert codes(broken_first) == Counter({"D107": 1})
    assert outline(broken_first.roots) == outline(parsed.roots)  # started from the head
    broken_last = parse_dicomdir(put(data, header_value(data, LAST), 0))
    assert codes(broken_last) == Counter({"D107": 1})


def _shift_every_offset(data: bytes, parsed: ParsedDirectory, delta: int) -> bytes:
    for at in (header_value(data, FIRST), header_value(data, LAST)):
        data = put(data, at, struct.unpack_from("<L", data, at)[0] + delta)
    for rec in parsed.records:
        assert rec.offset is not None
        for at in (nxt(rec.offset), low(rec.offset)):
            value = struct.unpack_from("<L", data, at)[0]
            data = put(data, at, value + delta if value else 0)
    return data


def test_offsets_shifted_by_a_constant_are_snapped(good: tuple[bytes, ParsedDirectory]) -> None:
    """fo-dicom #828: every offset 22 bytes off."""
    data, parsed = good
    result = parse_dicomdir(_shift_every_offset(data, parsed, 22))
    assert codes(result) == Counter({"D123": 1})
    assert "off by +22 bytes" in result.findings[0].message
    assert outline(result.roots) == outline(parsed.roots)


def test_missing_file_meta_still_parses(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    start = data.index(b"\x04\x00\x30\x11")  # (0004,1130): the dataset without preamble/meta
    result = parse_dicomdir(data[start:])
    assert codes(result) == Counter({"D103": 1, "D123": 1})  # offsets now off by the meta size
    assert outline(result.roots) == outline(parsed.roots)
    assert result.transfer_syntax == ELE and result.fileset_uid is None


def _zero_offsets(data: bytes, parsed: ParsedDirectory) -> bytes:
    for at in (header_value(data, FIRST), header_value(data, LAST)):
        data = put(data, at, 0)
    for rec in parsed.records:
        data = put(put(data, nxt(rec.offset or 0), 0), low(rec.offset or 0), 0)
    return data


def test_zero_offsets_rebuild_the_tree_from_record_types(
    good: tuple[bytes, ParsedDirectory],
) -> None:
    data, parsed = good
    result = parse_dicomdir(_zero_offsets(data, parsed))
    assert codes(result) == Counter({"D107": 1, "D123": 1})
    assert outline(result.roots) == outline(parsed.roots)
    assert len(result.reachable) == len(result.records)


def test_rebuild_nests_unknown_levels_and_private_leaves() -> None:
    types = ("PATIENT", "STUDY", "SERIES", "IMAGE", "PRIVATE", "VENDOR", "IMAGE", "SERIES",
             "IMAGE", "PALETTE", "STUDY", "PRIVATE")  # fmt: skip
    flat = [Record(t, file_id=("X",) if i == 4 else None) for i, t in enumerate(types)]
    data = encode_dicomdir(flat, fileset_id="", fileset_uid="1.2")  # every record a root
    result = parse_dicomdir(_zero_offsets(data, parse_dicomdir(data)))
    assert [(d, r.record_type) for d, r in walk_all(result.roots)] == [
        (0, "PATIENT"), (1, "STUDY"), (2, "SERIES"), (3, "IMAGE"), (3, "PRIVATE"),
        (3, "VENDOR"), (4, "IMAGE"), (2, "SERIES"), (3, "IMAGE"), (0, "PALETTE"), (0, "STUDY"),
        (1, "PRIVATE"),
    ]  # fmt: skip


# --- other header and record findings ------------------------------------------------------


def test_flags_and_sop_class(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    assert codes(parse_dicomdir(put(data, header_value(data, FLAG), 0xFFFF, "<H"))) == Counter(
        {"D118": 1}
    )
    image = _image_offsets(parsed)[1]
    inactive = parse_dicomdir(put(data, image + 28, 0, "<H"))  # (0004,1410) value
    assert codes(inactive) == Counter({"D119": 1})
    assert [r.in_use for r in inactive.records].count(0) == 1
    assert len(outline(inactive.roots)) == len(parsed.records)  # kept, in the tree
    odd = parse_dicomdir(put(data, image + 28, 0x1234, "<H"))
    assert odd.findings == () and {r.in_use for r in odd.records} == {0xFFFF}
    other = parse_dicomdir(data.replace(b"1.2.840.10008.1.3.10", b"1.2.840.10008.1.3.99", 1))
    assert codes(other) == Counter({"D103": 1})


# --- hostile bytes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"DICM", b"hello world" * 100, b"\x89PNG\r\n\x1a\n" + bytes(500),
     bytes(128) + b"DICM", random.Random(7).randbytes(20_000), bytes(200)],
    ids=["empty", "dicm", "text", "png", "meta-only", "random", "zeros"],
)  # fmt: skip
def test_not_a_dicomdir(data: bytes) -> None:
    parsed = parse_dicomdir(data)
    assert set(codes(parsed)) == {"D102"}
    assert parsed.records == [] and parsed.roots == []


def test_truncated_anywhere_never_raises(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    start = time.perf_counter()
    recovered = []
    for cut in range(0, len(data), 97):
        result = parse_dicomdir(data[:cut])
        assert "D102" in codes(result), cut
        assert all(id(r) in result.reachable for _, r in walk_all(result.roots))
        recovered.append(len(result.records))
    assert time.perf_counter() - start < 5
    assert recovered == sorted(recovered) and 0 < recovered[-1] <= len(parsed.records)


def _read_every_key(ds: Dataset) -> None:
    """Convert every element, nested ones too: what a check or an importer may do."""
    stack = [ds]
    while stack:
        for elem in stack.pop():
            if elem.VR == "SQ":
                stack.extend(elem.value)
            str(elem.value)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom on corrupt values: expected
def test_random_corruption_never_raises_and_keys_stay_readable(
    good: tuple[bytes, ParsedDirectory],
) -> None:
    seeds = [good[0], pydicom_file("DICOMDIR-implicit").read_bytes()]
    rng = random.Random(20240102)
    for _ in range(300):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data))
            if rng.random() < 0.7:
                data[at] = rng.randrange(256)
            else:
                del data[at : at + rng.randint(1, 40)]
        parsed = parse_dicomdir(bytes(data))
        for rec in parsed.records:
            _read_every_key(rec.keys)  # pydicom never raises on what the parser kept
        assert all(id(r) in parsed.reachable for _, r in walk_all(parsed.roots))


def test_implicit_sequence_whose_value_is_not_items_is_dropped() -> None:
    """Found by the 10,000-example fuzz run: an implicit tag of dictionary VR SQ holding text.

    pydicom reads such a value as items and raises; the parser must not keep it.
    """
    data = pydicom_file("DICOMDIR-implicit").read_bytes()
    at = data.index(b"\x10\x00\x20\x00")  # the first Patient ID of a PATIENT record
    length = struct.unpack_from("<L", data, at + 4)[0]
    assert length >= 8 and data[at + 8 : at + 12] != b"\xfe\xff\x00\xe0"
    hostile = data[:at] + b"\x08\x00\x15\x11" + data[at + 4 :]  # Referenced Series Sequence
    parsed = parse_dicomdir(hostile)
    for rec in parsed.records:
        _read_every_key(rec.keys)
    assert any(
        "(0008,1115): a sequence whose value is not items" in f.message for f in parsed.findings
    )


def test_huge_declared_lengths(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    image = _image_offsets(parsed)[0]
    result = parse_dicomdir(put(data, image + 4, 0xFFFFFFF0))  # the item's length
    assert codes(result)["D102"] == 1
    assert len(result.records) == 4  # up to and with the damaged item
    seq = data.index(b"\x04\x00\x20\x12SQ\x00\x00")
    result = parse_dicomdir(put(data, seq + 8, 0x7FFFFFF0))  # the sequence's length
    assert codes(result) == Counter({"D102": 1})
    assert len(result.records) == len(parsed.records)


def _nested(depth: int) -> Dataset:
    """A Referenced Image Sequence nested ``depth`` levels deep (pydicom writes it)."""
    inner = Dataset()
    inner.ReferencedSOPInstanceUID = "1.2.3"
    for _ in range(depth):
        outer = Dataset()
        outer.ReferencedImageSequence = [inner]
        inner = outer
    return inner


def _elem(tag: int, vr: bytes, value: bytes, length: int | None = None) -> bytes:
    """An ELE element with a 4-byte length (SQ, OB, UN); ``length`` overrides it."""
    size = len(value) if length is None else length
    return struct.pack("<HH2sHL", tag >> 16, tag & 0xFFFF, vr, 0, size) + value


ITEM_UNDEFINED = ITEM + b"\xff\xff\xff\xff"
ITEM_END, SEQ_END = b"\xfe\xff\x0d\xe0" + bytes(4), b"\xfe\xff\xdd\xe0" + bytes(4)


def _deep_bytes(depth: int, undefined: bool) -> bytes:
    """(0008,1140) nested ``depth`` levels deep, built without recursion."""
    body = struct.pack("<HH2sH", 0x0008, 0x1155, b"UI", 6) + b"1.2.3\0"
    if undefined:
        head = _elem(0x00081140, b"SQ", b"", 0xFFFFFFFF) + ITEM_UNDEFINED
        return head * depth + body + (ITEM_END + SEQ_END) * depth
    for _ in range(depth):
        body = _elem(0x00081140, b"SQ", ITEM + struct.pack("<L", len(body)) + body)
    return body


def _splice(extra: bytes) -> bytes:
    """A DICOMDIR with one IMAGE record whose keys end with ``extra`` (raw ELE elements)."""
    rec = Record("IMAGE", file_id=("A",), sop_class_uid=CT, sop_instance_uid="1.2")
    rec.keys.InstanceNumber = "5"
    data = encode_dicomdir([rec], fileset_id="", fileset_uid="1.2")
    at = data.rindex(SEQ_END)  # the record's item ends where the sequence does
    first = struct.unpack_from("<L", data, header_value(data, FIRST))[0]
    data = put(data, first + 4, struct.unpack_from("<L", data, first + 4)[0] + len(extra))
    return data[:at] + extra + data[at:]


@pytest.mark.parametrize("depth", [3, MAX_NESTING, MAX_NESTING + 1])
def test_nested_sequences_written_by_pydicom(depth: int) -> None:
    image = Record("IMAGE", _nested(depth), file_id=("A",), sop_class_uid=CT, sop_instance_uid="1")
    image.keys.InstanceNumber = "1"
    data = encode_dicomdir([Record("PATIENT", children=[image])], fileset_id="", fileset_uid="1")
    rec = parse_dicomdir(data).records[1]
    assert rec.keys.InstanceNumber == 1
    if depth > MAX_NESTING:
        assert codes(parse_dicomdir(data)) == Counter({"D102": 1})
        assert "ReferencedImageSequence" not in rec.keys
        return
    assert parse_dicomdir(data).findings == ()
    node = rec.keys
    for _ in range(depth):
        node = node.ReferencedImageSequence[0]
    assert node.ReferencedSOPInstanceUID == "1.2.3"


@pytest.mark.parametrize("undefined", [False, True], ids=["defined", "undefined"])
@pytest.mark.parametrize("depth", [MAX_NESTING, 2000])
def test_deeply_nested_sequences(depth: int, undefined: bool) -> None:
    parsed = parse_dicomdir(_splice(_deep_bytes(depth, undefined)))
    (rec,) = parsed.records
    assert rec.keys.InstanceNumber == 5
    if depth > MAX_NESTING:
        assert codes(parsed) == Counter({"D102": 1})
        assert "ReferencedImageSequence" not in rec.keys
    else:
        assert parsed.findings == ()
        assert len(rec.keys.ReferencedImageSequence) == 1


def test_undefined_length_icon_with_fragments() -> None:
    """Undefined-length sequence, item and encapsulated icon pixel data, as DCMTK writes them."""
    fragments = ITEM + bytes(4) + ITEM + b"\x04\x00\x00\x00ABCD"
    rows = struct.pack("<HH2sH", 0x0028, 0x0010, b"US", 2) + b"\x40\x00"
    pixels = _elem(0x7FE00010, b"OB", b"", 0xFFFFFFFF) + fragments + SEQ_END
    icon = _elem(0x00880200, b"SQ", b"", 0xFFFFFFFF) + ITEM_UNDEFINED + rows + pixels
    data = _splice(icon + ITEM_END + SEQ_END)
    parsed = parse_dicomdir(data)
    assert parsed.findings == ()
    keys = parsed.records[0].keys
    assert keys.InstanceNumber == 5 and keys.IconImageSequence[0].Rows == 64
    assert pydicom.dcmread(BytesIO(data)).DirectoryRecordSequence[0].IconImageSequence[0].Rows == 64


def test_2000_deep_record_chain() -> None:
    top = node = Record("PRIVATE")
    for _ in range(1999):
        child = Record("PRIVATE")
        node.children.append(child)
        node = child
    parsed = parse_dicomdir(encode_dicomdir([top], fileset_id="", fileset_uid="1.2"))
    assert parsed.findings == ()
    assert max(d for d, _ in walk_all(parsed.roots)) == 1999


def test_200k_records_parse_in_reasonable_time() -> None:
    images = [Record("IMAGE", file_id=("A", f"I{i:07d}")) for i in range(200_000)]
    series = Record("SERIES", children=images)
    data = encode_dicomdir([Record("PATIENT", children=[Record("STUDY", children=[series])])],
                           fileset_id="", fileset_uid="1.2")  # fmt: skip
    del images, series  # fewer live objects for the garbage collector to walk
    start = time.perf_counter()
    parsed = parse_dicomdir(data)
    elapsed = time.perf_counter() - start
    assert elapsed < 60, f"{elapsed:.1f} s"  # about 8 s on the development machine
    assert parsed.findings == () and len(parsed.reachable) == 200_003


def test_unreachable_records_are_listed(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    result = parse_dicomdir(put(data, nxt(parsed.roots[0].offset or 0), 0))
    assert codes(result) == Counter({"D107": 1})  # last root record is now the first
    unreachable = [r for r in result.records if id(r) not in result.reachable]
    assert [r.record_type for r in unreachable][:2] == ["PATIENT", "STUDY"]
    assert len(unreachable) == 12


def test_where_names_the_file_and_record(good: tuple[bytes, ParsedDirectory]) -> None:
    data, parsed = good
    images = _image_offsets(parsed)
    result = parse_dicomdir(put(data, nxt(images[0]), 12345678), where="CD/DICOMDIR")
    assert [f.path for f in result.findings] == [f"CD/DICOMDIR@{images[0]:#x}"]
    assert result.findings[0].line().startswith("error   D104 CD/DICOMDIR@0x")
