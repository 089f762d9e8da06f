"""dicomdir.encode: a DICOMDIR that pydicom, DCMTK and dicom3tools read, with exact offsets."""

from __future__ import annotations

import struct
import subprocess
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.fileset import FileSet
from pydicom.sequence import Sequence as PydicomSequence
from pydicom.uid import UID, generate_uid

from mediakit import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from mediakit.dicomdir.encode import _pydicom_keys, encode_dicomdir, encode_keys
from mediakit.dicomdir.model import Record, walk_all
from mediakit.errors import InputError, InternalError
from tests.conftest import needs

ELE = "1.2.840.10008.1.2.1"
CT, PLAN = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.481.5"
DOSE, STRUCT = "1.2.840.10008.5.1.4.1.1.481.2", "1.2.840.10008.5.1.4.1.1.481.3"
ITEM = b"\xfe\xff\x00\xe0"


def uid(*parts: object) -> str:
    """A UID that is the same on every run."""
    return str(generate_uid(entropy_srcs=["mediakit-tests", *map(str, parts)]))


def keys(**values: object) -> Dataset:
    ds = Dataset()
    for kw, value in values.items():
        setattr(ds, kw, value)
    return ds


def _leaf(rtype: str, sop_class: str, p: int, s: int, i: int, **values: object) -> Record:
    return Record(
        rtype,
        keys(InstanceNumber=str(i + 1), **values),
        file_id=(f"PT{p:06d}", "ST000000", f"SE{s:06d}", f"IM{i:06d}"),
        sop_class_uid=sop_class,
        sop_instance_uid=uid(p, s, i),
        transfer_syntax=ELE,
    )


def rt_tree(patients: int = 2) -> list[Record]:
    """PATIENT > STUDY > SERIES > CT images, RT STRUCTURE SET, RT PLAN, RT DOSE; Annex F keys.

    The second patient's records carry ISO_IR 100 and a non-ASCII name.
    """
    roots = []
    for p in range(patients):
        cs = {"SpecificCharacterSet": "ISO_IR 100"} if p % 2 else {}
        name = "MÜLLER^HANS" if p % 2 else "DOE^JANE"
        patient = Record("PATIENT", keys(**cs, PatientName=name, PatientID=f"MK{p:04d}"))
        study = Record(
            "STUDY",
            keys(
                **cs,
                StudyDate="20240102",
                StudyTime="101500",
                AccessionNumber="",
                StudyDescription="Pelvis RT",
                StudyInstanceUID=uid(p, "study"),
                StudyID=f"S{p}",
            ),
        )
        patient.children.append(study)
        ct = [
            _leaf("IMAGE", CT, p, 0, i, ImageType=["ORIGINAL", "PRIMARY", "AXIAL"], Rows=512,
                  Columns=512)
            for i in range(3)
        ]  # fmt: skip
        leaves = {
            "CT": ct,
            "RTSTRUCT": [
                _leaf("RT STRUCTURE SET", STRUCT, p, 1, 0, StructureSetLabel="PELVIS",
                      StructureSetDate="20240102", StructureSetTime="101600")
            ],
            "RTPLAN": [
                _leaf("RT PLAN", PLAN, p, 2, 0, RTPlanLabel="VMAT1", RTPlanDate="20240103",
                      RTPlanTime="090000")
            ],
            "RTDOSE": [_leaf("RT DOSE", DOSE, p, 3, 0, DoseSummationType="PLAN")],
        }  # fmt: skip
        for s, (modality, below) in enumerate(leaves.items()):
            series = Record(
                "SERIES",
                keys(Modality=modality, SeriesInstanceUID=uid(p, s, "se"), SeriesNumber=str(s + 1)),
            )
            series.children.extend(below)
            study.children.append(series)
        roots.append(patient)
    return roots


def encoded(roots: list[Record] | None = None) -> bytes:
    return encode_dicomdir(
        rt_tree() if roots is None else roots, fileset_id="MKTEST01", fileset_uid="1.2.3.4.5"
    )


@pytest.fixture
def dicomdir_file(tmp_path: Path) -> Path:
    path = tmp_path / "DICOMDIR"
    path.write_bytes(encoded())
    return path


def _items(ds: Dataset) -> Iterator[Dataset]:
    yield from ds.DirectoryRecordSequence


def test_part10_header_and_file_meta() -> None:
    data = encoded()
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    ds = pydicom.dcmread(BytesIO(data))
    meta = ds.file_meta
    assert meta.FileMetaInformationVersion == b"\x00\x01"
    assert meta.MediaStorageSOPClassUID == "1.2.840.10008.1.3.10"
    assert meta.MediaStorageSOPInstanceUID == "1.2.3.4.5"
    assert meta.TransferSyntaxUID == ELE
    assert meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert meta.ImplementationVersionName == IMPLEMENTATION_VERSION_NAME
    # Group length: bytes after its own value up to the end of group 0002 (PS3.10 §7.1)
    (group_length,) = struct.unpack_from("<L", data, 140)
    assert data[144 + group_length : 144 + group_length + 2] == b"\x04\x00"
    assert ds.FileSetID == "MKTEST01"
    assert ds.FileSetConsistencyFlag == 0


def test_offsets_are_item_starts_in_depth_first_order() -> None:
    data = encoded()
    ds = pydicom.dcmread(BytesIO(data))
    items = list(_items(ds))
    by_offset = {item.seq_item_tell: item for item in items}
    assert len(by_offset) == len(items) == sum(1 for _ in walk_all(rt_tree()))
    for item in items:
        assert data[item.seq_item_tell : item.seq_item_tell + 4] == ITEM
        for kw in ("OffsetOfTheNextDirectoryRecord", "OffsetOfReferencedLowerLevelDirectoryEntity"):
            target = item[kw].value
            assert target == 0 or target in by_offset
        assert item.RecordInUseFlag == 0xFFFF
        tags = [e.tag for e in item]
        assert tags == sorted(tags)
    first = ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity
    last = ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity
    assert first == items[0].seq_item_tell
    assert by_offset[first].DirectoryRecordType == by_offset[last].DirectoryRecordType == "PATIENT"
    assert by_offset[last].OffsetOfTheNextDirectoryRecord == 0
    # Depth first: every record's first child is the item right after it.
    for i, item in enumerate(items):
        lower = item.OffsetOfReferencedLowerLevelDirectoryEntity
        if lower:
            assert items[i + 1].seq_item_tell == lower


def test_record_fields_and_keys_are_written() -> None:
    ds = pydicom.dcmread(BytesIO(encoded()))
    leaves = [i for i in _items(ds) if "ReferencedFileID" in i]
    assert [i.DirectoryRecordType for i in leaves[:6]] == [
        "IMAGE", "IMAGE", "IMAGE", "RT STRUCTURE SET", "RT PLAN", "RT DOSE"
    ]  # fmt: skip
    first = leaves[0]
    assert list(first.ReferencedFileID) == ["PT000000", "ST000000", "SE000000", "IM000000"]
    assert first.ReferencedSOPClassUIDInFile == CT
    assert first.ReferencedTransferSyntaxUIDInFile == ELE
    assert first.Rows == 512 and list(first.ImageType) == ["ORIGINAL", "PRIMARY", "AXIAL"]
    patients = [i for i in _items(ds) if i.DirectoryRecordType == "PATIENT"]
    assert [str(p.PatientName) for p in patients] == ["DOE^JANE", "MÜLLER^HANS"]


def test_character_set_encodes_values() -> None:
    data = encoded()
    assert "MÜLLER^HANS".encode("latin-1") in data  # ISO_IR 100, not UTF-8
    assert "MÜLLER".encode() not in data


def _write_instances(root: Path, roots: list[Record]) -> None:
    """Real files at every File ID, as pydicom's FileSet expects."""
    for _, rec in walk_all(roots):
        if rec.file_id is None or rec.sop_class_uid is None or rec.sop_instance_uid is None:
            continue
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = UID(rec.sop_class_uid)
        ds.file_meta.MediaStorageSOPInstanceUID = UID(rec.sop_instance_uid)
        ds.file_meta.TransferSyntaxUID = UID(ELE)
        ds.SOPClassUID, ds.SOPInstanceUID = rec.sop_class_uid, rec.sop_instance_uid
        path = root.joinpath(*rec.file_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)


def test_pydicom_fileset_finds_every_leaf(tmp_path: Path) -> None:
    roots = rt_tree()
    (tmp_path / "DICOMDIR").write_bytes(encoded(roots))
    _write_instances(tmp_path, roots)
    fs = FileSet(pydicom.dcmread(tmp_path / "DICOMDIR"))
    expected = {r.sop_instance_uid: r.file_id for _, r in walk_all(roots) if r.file_id}
    found = {inst.SOPInstanceUID: tuple(Path(inst.path).relative_to(tmp_path).parts) for inst in fs}
    assert found == expected
    assert fs.ID == "MKTEST01" and fs.UID == "1.2.3.4.5"
    assert len(fs.find(PatientID="MK0001")) == len(expected) // 2


def test_empty_directory() -> None:
    data = encode_dicomdir([], fileset_id="", fileset_uid="1.2.3")
    ds = pydicom.dcmread(BytesIO(data))
    assert ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity == 0
    assert ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity == 0
    assert len(ds.DirectoryRecordSequence) == 0


def test_descriptor_private_and_related_fields() -> None:
    private = Record("PRIVATE", keys(), private_record_uid="1.2.3.9")
    leaf = _leaf("IMAGE", CT, 0, 0, 0)
    leaf.related_general_sop_class = ("1.2.3.7", "1.2.3.8")
    palette = Record("PALETTE", keys(), children=[private, leaf])
    data = encode_dicomdir(
        [palette], fileset_id="X", fileset_uid="1.2", descriptor_file_id=("README",),
        descriptor_charset="ISO_IR 100",
    )  # fmt: skip
    ds = pydicom.dcmread(BytesIO(data))
    assert ds.FileSetDescriptorFileID == "README"
    assert ds.SpecificCharacterSetOfFileSetDescriptorFile == "ISO_IR 100"
    items = list(_items(ds))
    assert items[1].PrivateRecordUID == "1.2.3.9"
    assert list(items[2].ReferencedRelatedGeneralSOPClassUIDInFile) == ["1.2.3.7", "1.2.3.8"]


def test_deep_tree_encodes_without_recursion() -> None:
    top = node = Record("PRIVATE", keys())
    for _ in range(5000):
        child = Record("PRIVATE", keys())
        node.children.append(child)
        node = child
    ds = pydicom.dcmread(BytesIO(encode_dicomdir([top], fileset_id="", fileset_uid="1.2")))
    assert len(ds.DirectoryRecordSequence) == 5001


@pytest.mark.parametrize(
    "values",
    [
        {"PatientName": "DOE^JANE^^^", "PatientID": "12345"},
        {"SpecificCharacterSet": "ISO_IR 100", "PatientName": "Müller^Zoë", "StudyID": "Ä1"},
        {"SpecificCharacterSet": "ISO_IR 192", "PatientName": "山田^太郎", "StudyDescription": "ü"},
        {
            "SpecificCharacterSet": ["", "ISO 2022 IR 87"],
            "PatientName": "Yamada^Tarou=山田^太郎=やまだ^たろう",
        },
        {"ImageType": ["ORIGINAL", "PRIMARY"], "InstanceNumber": "7", "SliceThickness": "2.5"},
        {"ImagePositionPatient": [1.5, -2, 3.25], "PixelSpacing": ["0.976562", "0.976562"]},
        {"Rows": 512, "Columns": 511, "NumberOfFrames": "3", "LossyImageCompressionRatio": [1]},
        {"SOPInstanceUID": "1.2.3", "StudyInstanceUID": "1.2.34", "AccessionNumber": ""},
        {"StudyDate": "20240102", "StudyTime": "1015", "ContentDate": None, "PatientSex": "O"},
        {"ReferencedImageSequence": PydicomSequence([keys(ReferencedSOPInstanceUID="1.2.3")])},
        {"SmallestImagePixelValue": 0, "ExposureTime": "12", "DoseGridScaling": "1e-4"},
    ],
)
def test_fast_key_encoding_equals_pydicom(values: dict[str, object]) -> None:
    ds = keys(**values)
    assert encode_keys(ds) == _pydicom_keys(ds)


def test_keys_may_not_hold_group_0004() -> None:
    with pytest.raises(InternalError):
        encode_keys(keys(DirectoryRecordType="IMAGE"))


def test_record_twice_in_tree_is_a_bug() -> None:
    leaf = _leaf("IMAGE", CT, 0, 0, 0)
    with pytest.raises(InternalError, match="twice"):
        encode_dicomdir([Record("PATIENT", children=[leaf, leaf])], fileset_id="", fileset_uid="1")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fileset_id": "MÜNCHEN"},
        {"fileset_id": "X", "descriptor_file_id": ("A\\B",)},
    ],
)
def test_values_that_cannot_be_encoded(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        encode_dicomdir([], fileset_uid="1.2", **kwargs)  # type: ignore[arg-type]


def test_file_id_component_with_backslash() -> None:
    leaf = _leaf("IMAGE", CT, 0, 0, 0)
    leaf.file_id = ("A\\B", "C")
    with pytest.raises(InputError, match="backslash"):
        encode_dicomdir([leaf], fileset_id="", fileset_uid="1.2")


def big_tree(records: int) -> list[Record]:
    """PATIENT > STUDY > SERIES > 995 IMAGEs with the DVD/USB IMAGE keys, repeated.

    IMAGE records share one keys Dataset (building 50k pydicom Datasets takes
    longer than encoding them); the encoder still encodes each record's keys.
    """
    image_keys = keys(InstanceNumber="1", ImageType=["ORIGINAL", "PRIMARY"], Rows=512, Columns=512)
    roots = []
    for p in range(records // 998):
        series = Record("SERIES", keys(Modality="CT", SeriesInstanceUID=uid(p, "se"),
                                       SeriesNumber="1"))  # fmt: skip
        study = Record("STUDY", keys(StudyDate="20240101", StudyTime="1200", StudyID="1",
                                     StudyDescription="", AccessionNumber="",
                                     StudyInstanceUID=uid(p, "st")), children=[series])  # fmt: skip
        roots.append(Record("PATIENT", keys(PatientName="X", PatientID=f"P{p}"), children=[study]))
        series.children.extend(
            Record("IMAGE", image_keys, file_id=(f"PT{p:06d}", f"IM{i:06d}"), sop_class_uid=CT,
                   sop_instance_uid=f"1.2.{p}.{i}", transfer_syntax=ELE)
            for i in range(995)
        )  # fmt: skip
    return roots


def test_50k_records_encode_in_seconds() -> None:
    roots = big_tree(50_000)
    start = time.perf_counter()
    data = encode_dicomdir(roots, fileset_id="BIG", fileset_uid="1.2.3")
    elapsed = time.perf_counter() - start
    assert elapsed < 10, f"{elapsed:.1f} s"  # about 3 s on the development machine
    # (0004,1202) UL: its value is 8 bytes after its tag; the last PATIENT record is there
    at = data.index(b"\x04\x00\x02\x12UL\x04\x00") + 8
    (last,) = struct.unpack_from("<L", data, at)
    assert data[last : last + 4] == ITEM
    assert data[last + 50 : last + 58] == b"PATIENT "  # (0004,1430) after 8 + 34 bytes


@pytest.mark.oracle
@needs("dcmftest")
def test_dcmftest_says_part10(dicomdir_file: Path) -> None:
    run = subprocess.run(["dcmftest", str(dicomdir_file)], capture_output=True, text=True)
    assert run.stdout.startswith("yes:"), run.stdout


@pytest.mark.oracle
@needs("dcmdump")
def test_dcmdump_reads_the_offsets(dicomdir_file: Path) -> None:
    run = subprocess.run(
        ["dcmdump", "+P", "0004,1200", "+P", "0004,1202", str(dicomdir_file)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    first, last = (int(line.split()[2]) for line in run.stdout.splitlines())
    data = dicomdir_file.read_bytes()
    assert data[first : first + 4] == data[last : last + 4] == ITEM
    assert "E:" not in run.stderr and "W:" not in run.stderr


@pytest.mark.oracle
@needs("dciodvfy")
def test_dciodvfy_reports_no_errors(dicomdir_file: Path) -> None:
    run = subprocess.run(["dciodvfy", str(dicomdir_file)], capture_output=True, text=True)
    lines = (run.stdout + run.stderr).splitlines()
    assert "BasicDirectory" in lines[0]
    assert not [line for line in lines if line.startswith("Error")], lines


@pytest.mark.oracle
@needs("dcdirdmp")
def test_dcdirdmp_walks_every_record(dicomdir_file: Path) -> None:
    run = subprocess.run(["dcdirdmp", str(dicomdir_file)], capture_output=True, encoding="latin-1")
    out = run.stdout + run.stderr
    assert "Error" not in out
    assert out.count("IMAGE") >= 6 and out.count("RT DOSE") >= 2
