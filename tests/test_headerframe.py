"""part10 frames the common header in memory (mediakit.headerframe): the same Header as pydicom.

Every file here is read twice, once as part10 reads it and once with the
framer switched off, so that pydicom frames it as before; the two Headers
(every field, and each key's tag, VR, value, position and length form) or
the two errors must be the same. The tests also prove the framer was really
used, and that what it leaves to pydicom goes there.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pydicom
import pytest
from pydicom.data import get_testdata_files
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian

from fixtures.rtcourse import QUIRKS, write_course
from mediakit import headerframe, part10
from mediakit.check.snapshot import every_keyword
from tests.conftest import SHARED_TESTDATA

KEYWORDS = every_keyword()


def facts(path: Path) -> object:
    """Everything read_header says of a file, or the error it raises."""
    try:
        header = part10.read_header(path, keywords=KEYWORDS)
    except Exception as exc:
        return (type(exc).__name__, str(exc))
    fields = {name: getattr(header, name) for name in header.__dataclass_fields__}
    keys = fields.pop("keys")
    return fields, [(e.tag, e.VR, repr(e.value), e.file_tell, e.is_undefined_length) for e in keys]


@contextmanager
def counted() -> Iterator[list[bool]]:
    """part10 as it is; the list says, per read, whether the framer took the file."""
    used: list[bool] = []
    real = headerframe.frame

    def frame(*args: object, **kwargs: object) -> object:
        framed = real(*args, **kwargs)  # type: ignore[arg-type]
        used.append(framed is not None)
        return framed

    with mock.patch.object(part10, "frame", frame):
        yield used


def both_ways(path: Path) -> tuple[object, object, bool]:
    """(as part10 reads it, as pydicom alone frames it, whether the framer took it)."""
    with counted() as used:
        fast = facts(path)
    with mock.patch.object(part10, "frame", lambda *a, **k: None):
        slow = facts(path)
    return fast, slow, any(used)


def _course_files(root: Path) -> list[Path]:
    files = write_course(root / "plain", seed=81, n_slices=3)
    for quirk in QUIRKS:
        files += write_course(root / quirk, seed=82, n_slices=2, quirks=[quirk])
    return files


def test_course_and_pydicom_files_read_the_same_both_ways(tmp_path: Path) -> None:
    course = _course_files(tmp_path)
    others = [Path(f) for f in get_testdata_files() if Path(f).is_file()]
    taken = 0
    for path in course + others:
        fast, slow, used = both_ways(path)
        assert fast == slow, path
        taken += used
    # the course's own exports with File Meta are all framed; most of pydicom's files too
    for path in course:
        if path.read_bytes()[128:132] == b"DICM":
            assert both_ways(path)[2], path
    assert taken > len(others) // 2


def test_vendor_media_read_the_same_both_ways() -> None:
    files = sorted(p for p in (SHARED_TESTDATA / "dcm_qa_ct").rglob("*") if p.is_file())
    if not files:
        pytest.skip("../shared/testdata/dcm_qa_ct is not there")
    taken = 0
    for path in files:
        fast, slow, used = both_ways(path)
        assert fast == slow, path
        taken += used
    assert taken > len(files) // 2


def _ct(tmp_path: Path) -> Dataset:
    path = write_course(tmp_path / "seed", seed=83, n_slices=1)[0]
    return pydicom.dcmread(path)


def _save(ds: Dataset, path: Path, **kwargs: object) -> Path:
    ds.save_as(path, **kwargs)  # type: ignore[arg-type]
    return path


def test_an_undefined_length_sequence_is_read_by_pydicom_within_the_frame(tmp_path: Path) -> None:
    ds = _ct(tmp_path)
    item = Dataset()
    item.ReferencedSOPClassUID = ds.SOPClassUID
    item.ReferencedSOPInstanceUID = "1.2.3.4"
    ds.ReferencedImageSequence = Sequence([item, item])
    ds["ReferencedImageSequence"].is_undefined_length = True
    ds.FrameOfReferenceUID = "1.2.3"
    path = _save(ds, tmp_path / "sq.dcm", enforce_file_format=True)
    assert b"\xfe\xff\xdd\xe0" in path.read_bytes()  # written with a sequence delimiter
    fast, slow, used = both_ways(path)
    assert used and fast == slow


def test_a_header_past_the_first_read_is_read_again_whole(tmp_path: Path) -> None:
    ds = _ct(tmp_path)
    ds.ImageComments = "x" * 10  # something before the long value
    ds.add_new(0x00090010, "LO", "MEDIAKIT TEST")
    ds.add_new(0x00091001, "OB", bytes(headerframe.FIRST_READ * 2))
    path = _save(ds, tmp_path / "long.dcm", enforce_file_format=True)
    fast, slow, used = both_ways(path)
    assert used and fast == slow


def test_a_header_past_the_frame_limit_is_left_to_pydicom(tmp_path: Path) -> None:
    ds = _ct(tmp_path)
    ds.add_new(0x00090010, "LO", "MEDIAKIT TEST")
    ds.add_new(0x00091001, "OB", bytes(headerframe.FRAME_LIMIT))
    path = _save(ds, tmp_path / "huge.dcm", enforce_file_format=True)
    fast, slow, used = both_ways(path)
    assert not used and fast == slow


def _edited(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1
    return data.replace(old, new, 1)


def _variants(tmp_path: Path) -> dict[str, bytes]:
    """Files the framer must leave to pydicom, each a small change to a course CT slice."""
    ds = _ct(tmp_path)
    plain = _save(ds, tmp_path / "plain.dcm", enforce_file_format=True).read_bytes()
    modality = b"\x08\x00\x60\x00CS"  # (0008,0060) Modality, Explicit VR LE
    big, deflated = tmp_path / "be.dcm", tmp_path / "dfl.dcm"
    for path, syntax, little in (
        (big, ExplicitVRBigEndian, False),
        (deflated, DeflatedExplicitVRLittleEndian, True),
    ):
        ds.file_meta.TransferSyntaxUID = syntax
        pydicom.dcmwrite(
            path, ds, implicit_vr=False, little_endian=little, enforce_file_format=True
        )
    return {
        "big endian": big.read_bytes(),
        "deflated": deflated.read_bytes(),
        "a VR pydicom does not know": _edited(plain, modality, b"\x08\x00\x60\x00QQ"),
        "a VR that is no VR": _edited(plain, modality, b"\x08\x00\x60\x00\x01\x02"),
        "an undefined-length value, not a sequence": _edited(
            plain, modality + b"\x02\x00CT", b"\x08\x00\x60\x00OB\x00\x00\xff\xff\xff\xff"
        ),
        "an item tag at the top level": _edited(plain, modality, b"\xfe\xff\x00\xe0CS"),
        "File Meta elements in the dataset": _edited(plain, modality, b"\x02\x00\x60\x00CS"),
        "no Transfer Syntax UID": _edited(plain, b"\x02\x00\x10\x00UI", b"\x02\x00\x11\x00UI"),
        "cut inside the header": plain[: plain.index(modality) + 9],
    }


def test_what_pydicom_must_read_goes_to_pydicom(tmp_path: Path) -> None:
    for name, data in _variants(tmp_path).items():
        path = tmp_path / "variant.dcm"
        path.write_bytes(data)
        with open(path, "rb") as fp:
            offset = part10._scan_meta(fp, len(data))[0]
            assert headerframe.frame(fp, len(data), offset) is None, name
        fast, slow, used = both_ways(path)
        assert not used and fast == slow, name


def test_a_short_read_is_left_to_pydicom() -> None:
    class Short(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(size)[:-1] if size and size > 0 else super().read(size)

    assert headerframe.frame(Short(bytes(300)), 300, 140) is None
