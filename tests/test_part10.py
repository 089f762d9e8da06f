"""part10: header facts, P rules and the rewrite (checked by dcmtk where installed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pydicom
import pytest

from mediakit.check.part10 import file_findings
from mediakit.errors import InputError
from mediakit.part10 import (
    EXPLICIT_VR_LE,
    IMPLICIT_VR_LE,
    read_header,
    rewrite,
    target_syntax,
)
from mediakit.profiles import load_profile
from tests.conftest import needs, pydicom_file

CD = load_profile("STD-GEN-CD")


def codes(path: Path) -> set[str]:
    return {f.code for f in file_findings(read_header(path), str(path), CD)}


def test_conformant_file_has_no_findings() -> None:
    h = read_header(pydicom_file("CT_small.dcm"))
    assert h.preamble == "tiff" and h.has_meta and h.transfer_syntax == EXPLICIT_VR_LE
    assert h.conforms(CD.transfer_syntaxes)
    assert codes(pydicom_file("CT_small.dcm")) == set()


def test_rtplan_is_implicit_with_meta_mismatch() -> None:
    # pydicom's rtplan.dcm: Implicit VR, (0002,0003) differs from (0008,0018).
    assert codes(pydicom_file("rtplan.dcm")) == {"P104", "P105"}


def test_rtstruct_has_no_meta() -> None:
    h = read_header(pydicom_file("rtstruct.dcm"))
    assert not h.has_meta and h.transfer_syntax == IMPLICIT_VR_LE and h.dataset_offset == 0
    assert codes(pydicom_file("rtstruct.dcm")) == {"P101", "P105"}


def test_keys_are_only_those_asked_for() -> None:
    h = read_header(pydicom_file("rtplan.dcm"), keywords=["RTPlanLabel", "InstanceNumber"])
    assert h.keys.RTPlanLabel == "Plan1" and "InstanceNumber" not in h.keys
    assert "PatientName" not in h.keys


@pytest.mark.parametrize("name", ["rtplan.dcm", "rtstruct.dcm", "rtdose.dcm"])
def test_rewrite_gives_conformant_file_with_same_dataset(name: str, tmp_path: Path) -> None:
    src = pydicom_file(name)
    h = read_header(src)
    ts = target_syntax(h, CD.transfer_syntaxes)
    assert ts == EXPLICIT_VR_LE
    dst = tmp_path / "out"
    size, sha = rewrite(src, dst, h, ts)
    assert size == dst.stat().st_size and len(sha) == 64
    assert codes(dst) == set()
    before, after = pydicom.dcmread(src, force=True), pydicom.dcmread(dst)
    assert after.file_meta.MediaStorageSOPInstanceUID == after.SOPInstanceUID
    assert [e.tag for e in before if e.tag.group != 2] == [e.tag for e in after]
    assert all(before[e.tag].value == e.value for e in after if e.VR != "SQ")


def test_big_endian_pixel_data_is_swapped(tmp_path: Path) -> None:
    src = pydicom_file("MR_small_bigendian.dcm")
    dst = tmp_path / "le"
    rewrite(src, dst, read_header(src), EXPLICIT_VR_LE)
    assert pydicom.dcmread(dst).PixelData == pydicom.dcmread(pydicom_file("MR_small.dcm")).PixelData


def test_not_dicom_names_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "Thumbs.db"
    junk.write_bytes(b"\xd0\xcf\x11\xe0 not dicom at all" * 20)
    with pytest.raises(InputError, match=r"Thumbs\.db: not DICOM"):
        read_header(junk)


def test_compressed_syntax_outside_profile_is_not_transcoded() -> None:
    h = read_header(pydicom_file("JPEG2000.dcm"))
    assert target_syntax(h, CD.transfer_syntaxes) is None
    assert target_syntax(h, load_profile("STD-GEN-DVD-J2K").transfer_syntaxes) == h.transfer_syntax


@needs("dcmftest")
@pytest.mark.parametrize("name", ["rtplan.dcm", "rtstruct.dcm"])
def test_dcmtk_accepts_rewritten_file(name: str, tmp_path: Path) -> None:
    src = pydicom_file(name)
    dst = tmp_path / "out"
    rewrite(src, dst, read_header(src), EXPLICIT_VR_LE)
    run = subprocess.run(["dcmftest", str(dst)], capture_output=True, text=True)
    assert run.stdout.startswith("yes:"), run.stdout + run.stderr
    assert subprocess.run(["dcmftest", str(src)], capture_output=True, text=True).stdout.startswith(
        "yes:"
    ) is (name == "rtplan.dcm")
