"""check and ls on whole media: what is listed, how often files are read, vendor media, timing."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from mediakit.check.runner import check_medium
from mediakit.check.snapshot import take_snapshot
from mediakit.media import IsoMedium, MediaFile, Medium, open_medium
from mediakit.profiles import load_profile
from tests.conftest import SHARED_TESTDATA, needs, run_cli
from tests.media import _lib

CD = load_profile("STD-GEN-CD")
QA_CT = SHARED_TESTDATA / "dcm_qa_ct"


def test_ls_json_lists_the_course(course_iso: Path) -> None:
    run = run_cli("ls", course_iso, "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert (doc["kind"], doc["source"], doc["volume_id"], doc["fileset_id"]) == (
        "iso",
        "dicomdir",
        "MKTEST01",
        "MKTEST01",
    )
    [patient] = doc["patients"]
    assert patient["patient_id"] == "MK0007000" and patient["patient_name"] == "MKTEST^COURSE7"
    [study] = patient["studies"]
    assert study["study_date"] and study["study_id"]
    modalities = Counter(s["modality"] for s in study["series"])
    assert modalities == Counter(
        {"CT": 1, "RTSTRUCT": 1, "RTPLAN": 2, "RTDOSE": 1, "RTRECORD": 1, "REG": 1, "RTIMAGE": 1}
    )
    leaves = [i for s in study["series"] for i in s["instances"]]
    assert len(leaves) == sum(s["count"] for s in study["series"]) == 11
    assert all(i["present"] for i in leaves)
    assert Counter(i["record_type"] for i in leaves)["RT PLAN"] == 2


def test_ls_text_shows_the_tree(course_iso: Path) -> None:
    run = run_cli("ls", course_iso)
    lines = run.stdout.splitlines()
    assert lines[0].startswith(str(course_iso)) and "volume MKTEST01" in lines[0]
    assert lines[1].startswith("PATIENT MK0007000")
    assert any(line.strip().startswith("SERIES CT #1: 4 IMAGE") for line in lines)
    assert any("RT TREAT RECORD" in line for line in lines)


def test_a_medium_without_dicomdir_is_listed_by_scanning(course_dir: Path) -> None:
    report = check_medium(course_dir, CD)
    assert [f.code for f in report.findings if f.severity.value == "error"] == ["D101"]
    doc = json.loads(run_cli("ls", course_dir, "--json").stdout)
    assert doc["source"] == "scan"
    series = doc["patients"][0]["studies"][0]["series"]
    assert sum(s["count"] for s in series) == 11


def test_the_guess_is_reported(course_iso: Path, tmp_path: Path, course_dir: Path) -> None:
    doc = json.loads(run_cli("check", course_iso, "--json").stdout)
    assert doc["profile"] == "STD-GEN-CD" and doc["profile_guessed"] is True
    assert [f["code"] for f in doc["findings"]] == ["V305"]
    usb = tmp_path / "usb"
    assert run_cli("build", course_dir, "-o", usb, "--profile", "STD-GEN-USB-JPEG").returncode == 0
    doc = json.loads(run_cli("check", usb, "--json").stdout)
    assert doc["profile"] == "STD-GEN-USB-JPEG" and doc["status"] == "pass"
    given = json.loads(run_cli("check", usb, "--profile", "STD-GEN-CD", "--json").stdout)
    assert given["profile_guessed"] is False


class _Counting(Medium):
    """A medium that counts how often each file is opened."""

    def __init__(self, inner: Medium) -> None:
        super().__init__(inner.label, list(inner.files()), list(inner.findings()))
        self.kind, self.volume_id, self.iso = inner.kind, inner.volume_id, inner.iso
        self.inner = inner
        self.opened: Counter[str] = Counter()

    def open(self, f: MediaFile):  # type: ignore[no-untyped-def]
        self.opened[f.raw] += 1
        return self.inner.open(f)


def test_every_file_is_opened_once(course_iso: Path) -> None:
    """Headers, the DICOMDIR and the manifest hashes come from one open of each file."""
    with open_medium(course_iso) as medium:
        assert isinstance(medium, IsoMedium)
        counting = _Counting(medium)
        snap = take_snapshot(counting)
    assert snap.expected is not None  # the medium's SHA256.TXT was verified...
    assert all(f.sha256 for f in snap.files)  # ...with every file hashed in the same pass
    assert set(counting.opened.values()) == {1}
    assert len(counting.opened) == 17  # 11 instances, DICOMDIR, SHA256.TXT, 4 PDI files


@pytest.mark.parametrize("case", ["d106_cycle", "d105_lower_nowhere", "d102_truncated"])
def test_broken_dicomdirs_finish_in_under_a_second(
    case: str, tmp_path: Path, course_dir: Path
) -> None:
    """A loop, offsets past the end and a truncated DICOMDIR: findings, exit 1, at once."""
    from tests.test_media_corpus import _load

    medium = tmp_path / "medium"
    assert run_cli("build", course_dir, "-o", medium, "--format", "dir").returncode == 0
    (medium / "SHA256.TXT").unlink()
    target = _load(Path(__file__).parent / "media" / "negative" / case)(medium)
    started = time.monotonic()
    report = check_medium(target, CD)
    assert time.monotonic() - started < 1.0
    assert any(f.severity.value == "error" for f in report.findings)
    assert run_cli("check", target).returncode == 1


@needs("xorriso")
def test_joliet_lowercase_image_lists_every_instance(course_iso: Path, tmp_path: Path) -> None:
    lower = tmp_path / "lower"
    subprocess.run(["bsdtar", "-xf", str(course_iso), "-C", str(tmp_path)], check=True)
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file() and p != course_iso):
        if path.suffix == ".iso":
            continue
        target = lower.joinpath(*(c.lower() for c in path.relative_to(tmp_path).parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    image = tmp_path / "joliet.iso"
    _lib.run("xorriso", "-as", "mkisofs", "-quiet", "-J", "-V", "MKTEST01", "-o", image, lower)
    with open_medium(image) as medium:
        assert medium.iso is not None and medium.iso.joliet
        aliases = {f.alias for f in medium.files()}
    assert ("dicomdir",) in aliases
    doc = json.loads(run_cli("ls", image, "--json").stdout)
    leaves = [i for s in doc["patients"][0]["studies"][0]["series"] for i in s["instances"]]
    assert len(leaves) == 11 and all(i["present"] for i in leaves)
    check = json.loads(run_cli("check", image, "--json").stdout)
    assert check["counts"]["error"] == 0 and check["counts"]["warning"] == 0


# --- real vendor media (../shared/testdata/dcm_qa_ct, read in place) ------------------------

needs_qa_ct = pytest.mark.skipif(not QA_CT.is_dir(), reason="shared dcm_qa_ct data not present")


@needs_qa_ct
def test_vendor_dicomdir_whose_images_are_absent(tmp_path: Path) -> None:
    """445 records, none of whose files is there: each is reported with its study and series."""
    medium = tmp_path / "qa"
    medium.mkdir()
    shutil.copy(QA_CT / "DICOMDIR", medium / "DICOMDIR")  # a link out would be refused (S402)
    report = check_medium(medium / "DICOMDIR", CD)
    missing = [f for f in report.findings if f.code == "D112"]
    assert len(missing) == 433
    assert all("(patient " in f.message and "series " in f.message for f in missing)
    doc = json.loads(run_cli("ls", medium / "DICOMDIR", "--json").stdout)
    leaves = [
        i
        for p in doc["patients"]
        for s in p["studies"]
        for se in s["series"]
        for i in se["instances"]
    ]
    assert len(leaves) == 433 and not any(i["present"] for i in leaves)


@needs_qa_ct
def test_philips_multilevel_dicomdir_is_followed() -> None:
    """STUDY records pointing at lower-level DIRFILEs, no offsets (pydicom raises KeyError)."""
    medium = QA_CT / "In" / "Philips"
    report = check_medium(medium, CD)
    codes = Counter(f.code for f in report.findings)
    assert codes["D125"] == 2 + 9  # 2 STUDY and 9 SERIES records point at DIRFILEs
    present = [f for f in report.snapshot.files if f.header and not f.header.is_directory]
    assert len(present) == 8
    doc = json.loads(run_cli("ls", medium, "--json").stdout)
    series = [se for p in doc["patients"] for s in p["studies"] for se in s["series"]]
    leaves = [i for se in series for i in se["instances"]]
    assert len(leaves) == 433 and sum(i["present"] for i in leaves) == 8
    assert len(series) == 9 and {se["modality"] for se in series} == {"CT"}
    assert codes["D112"] == 433 - 8
    run = run_cli("check", medium)
    assert run.returncode == 1 and "Traceback" not in run.stderr


def test_check_on_a_zip_and_on_a_dicomdir_path(course_dir: Path, tmp_path: Path) -> None:
    zipped = tmp_path / "course.zip"
    assert run_cli("build", course_dir, "-o", zipped, "--format", "zip").returncode == 0
    assert run_cli("check", zipped, "--profile", "STD-GEN-CD").returncode == 0
    folder = tmp_path / "folder"
    assert run_cli("build", course_dir, "-o", folder, "--format", "dir").returncode == 0
    doc = json.loads(run_cli("check", folder / "DICOMDIR", "--json").stdout)
    assert doc["kind"] == "dir" and doc["status"] == "pass" and doc["files"] == 17
    shutil.rmtree(folder)


def test_binary_keys_that_look_like_padding_are_present(tmp_path: Path) -> None:
    """Columns = 8192 is b'\\x00\\x20' on the medium: NUL and space, but a value (D109)."""
    import pydicom

    from mediakit.check.dicomdir import _has_value
    from mediakit.dicomdir.parse import parse_dicomdir

    ds = pydicom.Dataset()
    ds.Columns, ds.Rows, ds.StudyID = 8192, 0, "  "
    rec = _lib_record(ds)
    parsed = parse_dicomdir(rec)
    keys = next(r for r in parsed.records if r.record_type == "IMAGE").keys
    assert _has_value(keys, "Columns") and _has_value(keys, "Rows")
    assert not _has_value(keys, "StudyID") and not _has_value(keys, "PatientID")


def _lib_record(keys: object) -> bytes:
    from mediakit.dicomdir.encode import encode_dicomdir
    from mediakit.dicomdir.model import Record

    leaf = Record("IMAGE", keys=keys)  # type: ignore[arg-type]
    return encode_dicomdir([leaf], fileset_id="T", fileset_uid="2.25.1")


@needs("dcmmkdir")
@needs("genisoimage")
def test_dcmtk_genisoimage_medium_lists_every_instance(course_dir: Path, tmp_path: Path) -> None:
    """A medium another File-set Creator made: DCMTK's DICOMDIR, genisoimage's image."""
    tree = tmp_path / "tree"
    for n, path in enumerate(sorted(course_dir.iterdir())):
        target = tree / "DICOM" / f"IM{n:06d}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    files = [str(p.relative_to(tree)) for p in sorted((tree / "DICOM").iterdir())]
    _lib.run("dcmmkdir", "-Pgp", "+F", "DCMTK", *files, cwd=tree)
    image = tmp_path / "dcmtk.iso"
    _lib.run("genisoimage", "-quiet", "-V", "DCMTK", "-o", image, tree)
    doc = json.loads(run_cli("ls", image, "--json").stdout)
    leaves = [i for p in doc["patients"] for s in p["studies"] for se in s["series"]
              for i in se["instances"]]  # fmt: skip
    assert len(leaves) == 11 and all(i["present"] for i in leaves)
    assert {i["record_type"] for i in leaves} == {
        "IMAGE", "RT STRUCTURE SET", "RT PLAN", "RT DOSE", "RT TREAT RECORD", "REGISTRATION"
    }  # fmt: skip
    check = json.loads(run_cli("check", image, "--json").stdout)
    assert check["profile"] == "STD-GEN-CD" and check["counts"]["error"] == 0, check["findings"]


def test_v304_compares_the_image_file_systems_with_the_profile(
    course_iso: Path, course_dir: Path, tmp_path: Path
) -> None:
    """A BD profile needs UDF: an ISO 9660-only image under it is reported; CD and DVD not."""

    def v304(medium: Path, profile: str) -> list[str]:
        report = check_medium(medium, load_profile(profile))
        return [f.message for f in report.findings if f.code == "V304"]

    [message] = v304(course_iso, "STD-GEN-BD-JPEG")
    assert "iso9660" in message and "needs udf" in message
    assert v304(course_iso, "STD-GEN-CD") == v304(course_iso, "STD-GEN-DVD-JPEG") == []
    bd = tmp_path / "bd.iso"
    assert run_cli("build", course_dir, "-o", bd, "--profile", "STD-GEN-BD-JPEG").returncode == 0
    assert v304(bd, "STD-GEN-BD-JPEG") == v304(bd, "STD-GEN-DVD-JPEG") == []
    assert v304(bd, "STD-GEN-CD") == []  # the ISO 9660 bridge is what a CD reader sees


def test_d121_fires_for_an_unknown_sop_class_only() -> None:
    """Every class of the record-type table passes; a private class in an IMAGE record does
    not; a PRIVATE record may reference any class."""
    from dataclasses import replace

    from mediakit.check.dicomdir import d121_sop_class_in_table
    from mediakit.check.snapshot import unreadable_snapshot
    from mediakit.dicomdir.encode import encode_dicomdir
    from mediakit.dicomdir.model import Record
    from mediakit.dicomdir.parse import parse_dicomdir
    from mediakit.profiles import _record_tables

    table = _record_tables()[0]
    leaves = [
        Record(rtype, file_id=("F", f"{n}"), sop_class_uid=uid, sop_instance_uid=f"2.25.{n}")
        for n, (uid, rtype) in enumerate(table.items())
    ]
    leaves.append(
        Record("IMAGE", file_id=("X",), sop_class_uid="1.2.3.4", sop_instance_uid="2.25.1")
    )
    leaves.append(
        Record("PRIVATE", file_id=("Y",), sop_class_uid="1.2.3.5", sop_instance_uid="2.5")
    )
    parsed = parse_dicomdir(encode_dicomdir(leaves, fileset_id="T", fileset_uid="2.25.9"))
    snap = replace(unreadable_snapshot("m", "dir"), directory=parsed)
    found = list(d121_sop_class_in_table(snap, CD))
    assert [f.message.split(": ", 1)[1].split()[0] for f in found] == ["1.2.3.4"]
    assert found[0].severity.value == "warning"


def test_findings_are_ordered_by_offset_as_a_number() -> None:
    """DICOMDIR@0x9ff comes before DICOMDIR@0x1a2c; IM2 before IM10 (not as strings)."""
    from mediakit.findings import finding, sort_key

    paths = ["DICOMDIR@0x1a2c", "DICOMDIR@0x9ff", "DICOMDIR", "A/IM10", "A/IM2", "A/B"]
    ordered = sorted((finding("D104", p) for p in paths), key=sort_key)
    assert [f.path for f in ordered] == [
        "A/B", "A/IM2", "A/IM10", "DICOMDIR", "DICOMDIR@0x9ff", "DICOMDIR@0x1a2c"
    ]  # fmt: skip
