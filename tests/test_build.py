"""mediakit build: the staged plan end to end, through the command line and the API."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from pydicom.fileset import FileSet

from fixtures.rtcourse import SOP_CLASSES, write_course
from mediakit.build import build_medium
from mediakit.check.runner import Report, check_medium
from mediakit.errors import InputError, InternalError
from mediakit.findings import Severity, finding
from mediakit.media import open_medium
from mediakit.profiles import load_profile, record_type_for
from tests.conftest import assert_one_line_error, needs, run_cli

CD = load_profile("STD-GEN-CD")


def codes(findings: object) -> Counter[str]:
    return Counter(f["code"] for f in findings)  # type: ignore[attr-defined]


def sop_uids(folder: Path) -> set[str]:
    return {
        str(pydicom.dcmread(p, stop_before_pixels=True, force=True).SOPInstanceUID)
        for p in folder.iterdir()
    }


def leftovers(folder: Path) -> list[str]:
    """Anything build left beside its output: partial images, staging folders."""
    return sorted(
        p.name for p in folder.iterdir() if ".partial-" in p.name or ".staging-" in p.name
    )


# --- the main job -------------------------------------------------------------------------


def test_course_builds_clean_through_the_cli(course_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "transfer.iso"
    run = run_cli("build", course_dir, "-o", out, "--profile", "STD-GEN-CD", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["status"] == "pass" and doc["findings"] == []
    assert doc["output"] == str(out) and doc["output_format"] == "iso"
    assert doc["volume_id"] == "TRANSFER" and doc["instances"] == 11 and doc["rewritten"] == 0
    assert set(doc) >= {"format", "command", "profile", "bytes", "counts"}
    assert out.is_file() and leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["iso", "dir", "zip"])
def test_round_trip_for_each_format(course_dir: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"medium.{fmt}"
    result = build_medium([course_dir], out, CD, fmt=fmt)  # type: ignore[arg-type]
    assert result.output == out and result.format == fmt
    with open_medium(out) as medium:
        assert medium.kind == fmt
        names = {"/".join(f.parts) for f in medium.files()}
    assert {"DICOMDIR", "SHA256.TXT"} <= names
    report = check_medium(out, CD)
    assert [f.line() for f in report.findings if f.severity is not Severity.INFO] == []
    snap = report.snapshot
    on_medium = {f.header.sop_instance_uid for f in snap.files if f.header is not None}
    assert on_medium == sop_uids(course_dir)
    assert len(snap.files) == 16  # 11 instances, the manifest, README, INDEX, 2 PDI pages


def test_files_that_conform_are_copied_byte_for_byte(course_dir: Path, course_iso: Path) -> None:
    originals = {p.read_bytes() for p in course_dir.iterdir()}
    with open_medium(course_iso) as medium:
        copied = {medium.read_bytes(f, 1 << 24) for f in medium.files() if f.parts[0] == "PT000000"}
    assert copied == originals


def test_record_types_are_those_of_the_sop_class_table(course_extracted: Path) -> None:
    """pydicom's FileSet (not our parser) reads the DICOMDIR and finds every instance."""
    fs = FileSet(course_extracted / "DICOMDIR")
    seen = {str(i.SOPClassUID): i.DirectoryRecordType for i in fs}
    assert set(seen) == {str(u) for u in SOP_CLASSES.values()}
    for sop_class, record_type in seen.items():
        assert record_type == record_type_for(sop_class), sop_class
    assert dict(Counter(seen.values())) == {
        "IMAGE": 2,  # CT and RT Image
        "RT STRUCTURE SET": 1,
        "RT PLAN": 2,  # photon and ion
        "RT DOSE": 1,
        "RT TREAT RECORD": 1,
        "REGISTRATION": 1,
    }
    for instance in fs:
        assert instance.load().SOPInstanceUID == instance.SOPInstanceUID


def test_volume_id_is_the_fileset_id(course_iso: Path) -> None:
    report = check_medium(course_iso, CD)
    assert report.snapshot.volume_id == "MKTEST01"
    assert report.snapshot.directory is not None
    assert report.snapshot.directory.fileset_id == "MKTEST01"


# --- what planning systems really export ----------------------------------------------------


def test_pydicom_rt_files_build_with_warnings(pydicom_rt: Path, tmp_path: Path) -> None:
    run = run_cli("build", pydicom_rt, "-o", tmp_path / "pd.iso", "--json")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # pydicom's complaints about odd values do not leak out
    doc = json.loads(run.stdout)
    assert doc["counts"]["error"] == 0 and doc["rewritten"] == 3
    by_file: dict[str, set[str]] = {}
    for f in doc["findings"]:
        if f["code"].startswith("R"):  # the RT references (tests/test_rt_*.py)
            continue
        assert f["severity"] == "warning", f
        by_file.setdefault(Path(f["path"]).name, set()).add(f["code"])
    assert by_file["rtplan.dcm"] == {"P104", "P105", "D122"}  # implicit, stale meta, no Inst. No.
    assert by_file["rtstruct.dcm"] == {"P101", "P105"}  # a bare dataset
    assert by_file["rtdose.dcm"] == {"P104", "P105", "D122"}
    assert "CT_small.dcm" not in by_file
    plan_fill = [f for f in doc["findings"] if f["code"] == "D122" and "rtplan" in f["path"]]
    assert ["InstanceNumber" in f["message"] for f in plan_fill] == [True]


def test_pydicom_rt_files_fail_with_no_fix(pydicom_rt: Path, tmp_path: Path) -> None:
    out = tmp_path / "pd.iso"
    run = run_cli("build", pydicom_rt, "-o", out, "--no-fix", "--json")
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    assert doc["status"] == "fail" and doc["output"] is None
    assert {f["severity"] for f in doc["findings"] if f["code"][0] in "PD"} == {"error"}
    fixes = Counter(f["code"] for f in doc["findings"] if f["code"][0] in "PD")
    assert fixes == Counter({"P105": 3, "P104": 2, "P101": 1, "D122": 4})
    assert not out.exists() and leftovers(tmp_path) == []
    assert doc["rewritten"] == 0 and doc["bytes"] == 0  # nothing was written, nor re-encoded
    assert doc["instances"] == 4 and doc["volumes"] == []


@pytest.mark.parametrize(
    ("quirk", "expected"),
    [
        ("implicit", {"P105": 11}),
        ("no_meta", {"P101": 11, "P105": 11}),
        ("no_instance_number", {"D122": 4}),  # plan, ion plan, dose, structure set
        ("empty_study_id", {"D122": 1}),  # the one STUDY record
        ("lowercase_names", {}),
    ],
)
def test_each_export_quirk_is_fixed_and_reported(
    quirk: str, expected: dict[str, int], tmp_path: Path
) -> None:
    export = tmp_path / "export"
    write_course(export, 21, quirks=[quirk])
    result = build_medium([export], tmp_path / "q.iso", CD)
    assert result.output is not None
    assert Counter(f.code for f in result.findings) == Counter(expected)
    assert all(f.severity is Severity.WARNING for f in result.findings)
    snap = check_medium(result.output, CD).snapshot
    assert sop_uids(export) == {f.header.sop_instance_uid for f in snap.files if f.header}
    strict = build_medium([export], tmp_path / "strict.iso", CD, fix=False)
    assert (strict.output is None) == bool(expected)
    assert (tmp_path / "strict.iso").exists() == (not expected)


# --- bad input ----------------------------------------------------------------------------


def test_non_dicom_files_in_a_folder_are_skipped_with_a_warning(
    course_dir: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    shutil.copytree(course_dir, export)
    (export / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    (export / "plan report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"x" * 300)
    (export / "notes.txt").write_text("beam 2 collimator checked\n" * 20)
    run = run_cli("build", export, "-o", tmp_path / "out.iso", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    skipped = {Path(f["path"]).name for f in doc["findings"] if f["code"] == "F207"}
    assert skipped == {"Thumbs.db", "plan report.pdf", "notes.txt"}
    assert doc["instances"] == 11


def test_a_named_file_that_is_not_dicom_is_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "report.pdf"
    junk.write_bytes(b"%PDF-1.4\n" + b"y" * 500)
    run = run_cli("build", junk, "-o", tmp_path / "out.iso")
    assert_one_line_error(run, 2, str(junk), "not DICOM")
    assert not (tmp_path / "out.iso").exists()


def test_a_missing_input_is_exit_2(tmp_path: Path) -> None:
    run = run_cli("build", tmp_path / "nowhere", "-o", tmp_path / "out.iso")
    assert_one_line_error(run, 2, str(tmp_path / "nowhere"), "no such file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_output_folder_is_exit_2(course_dir: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        run = run_cli("build", course_dir, "-o", locked / "out.iso")
    finally:
        locked.chmod(stat.S_IRWXU)
    assert_one_line_error(run, 2, str(locked / "out.iso"), "cannot write")


def test_an_output_under_a_file_is_exit_2(course_dir: Path, tmp_path: Path) -> None:
    """Unwritable for root too: the output's folder is a regular file."""
    (tmp_path / "afile").write_text("x")
    run = run_cli("build", course_dir, "-o", tmp_path / "afile" / "out.iso")
    assert_one_line_error(run, 2, "out.iso", "cannot write")


def test_an_existing_output_is_never_overwritten(course_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "precious.iso"
    out.write_bytes(b"the user's own image")
    run = run_cli("build", course_dir, "-o", out)
    assert_one_line_error(run, 2, str(out), "already exists")
    assert out.read_bytes() == b"the user's own image"


def test_two_contents_under_one_uid_is_an_error_and_nothing_is_written(
    course_dir: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    shutil.copytree(course_dir, export)
    plan = pydicom.dcmread(export / "RP.photon.dcm")
    plan.RTPlanName = "changed after export"
    plan.save_as(export / "RP.photon.copy.dcm", enforce_file_format=True)
    out = tmp_path / "out.iso"
    run = run_cli("build", export, "-o", out, "--json")
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    assert [f["code"] for f in doc["findings"]] == ["F206"]
    assert str(plan.SOPInstanceUID) in doc["findings"][0]["message"]
    assert doc["output"] is None and not out.exists() and leftovers(tmp_path) == []


def test_the_same_instance_twice_is_kept_once(course_dir: Path, tmp_path: Path) -> None:
    result = build_medium([course_dir, course_dir / "RP.photon.dcm"], tmp_path / "out.iso", CD)
    assert result.instances == 11 and result.findings == ()


def test_content_beyond_capacity_fails_before_anything_is_written(
    course_dir: Path, tmp_path: Path
) -> None:
    tiny = replace(CD, capacity_bytes=500_000)  # the course is ~30 kB, with overhead ~1 MB
    out = tmp_path / "out.iso"
    result = build_medium([course_dir], out, tiny)
    assert result.output is None
    assert [f.code for f in result.findings] == ["V303"]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_medium_that_fails_its_own_check_never_appears(
    course_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_check(path: Path, profile: object, **kwargs: object) -> Report:
        report = check_medium(path, CD, **kwargs)  # type: ignore[arg-type]
        bad = finding("D112", "DICOMDIR@0x1a4", "planted by the test")
        return replace(report, findings=(*report.findings, bad))

    monkeypatch.setattr("mediakit.build.check_medium", failing_check)
    out = tmp_path / "out.iso"
    with pytest.raises(InternalError, match="fails its own check"):
        build_medium([course_dir], out, CD)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_volume_id_is_an_input_error(course_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="volume-id"):
        build_medium([course_dir], tmp_path / "o.iso", CD, volume_id="way-too-long-volume-id!")


@pytest.mark.parametrize("given", ["my disc", "", " ", "MY\n", "ÄRZTE", "A-B"])
def test_a_volume_id_of_other_than_d_characters_is_refused(
    course_dir: Path, tmp_path: Path, given: str
) -> None:
    """ECMA-119 §7.4.1: d-characters are A-Z 0-9 _; a space is not one (nor is nothing)."""
    run = run_cli("build", course_dir, "-o", tmp_path / "o.iso", "--volume-id", given)
    assert_one_line_error(run, 2, "--volume-id", "A-Z 0-9 _")
    assert "space" not in run.stderr.replace("no spaces", "")  # it used to offer a space
    assert list(tmp_path.iterdir()) == []


@needs("isoinfo")
def test_a_lower_case_volume_id_is_uppercased(course_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.iso"
    assert build_medium([course_dir], out, CD, volume_id="my_disc_2").output == out
    info = subprocess.run(["isoinfo", "-d", "-i", str(out)], capture_output=True, text=True)
    assert "Volume id: MY_DISC_2" in info.stdout


def test_summary_lines_count_one_instance_in_the_singular(tmp_path: Path) -> None:
    export = tmp_path / "export"
    write_course(export, 7, n_slices=1)
    run = run_cli("build", export / "CT.1.dcm", "-o", tmp_path / "one.iso")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "0 errors, 0 warnings in 1 instance (OK)" in lines[-2], lines
    assert "1 instance, 0 re-encoded" in lines[-1] and "1 instances" not in run.stdout


def test_inputs_can_be_an_existing_medium(course_iso: Path, tmp_path: Path) -> None:
    """A built image is an input like a folder: the instances come across, nothing else."""
    result = build_medium([course_iso], tmp_path / "again.iso", CD)
    assert result.output is not None and result.instances == 11
    assert result.findings == ()  # its DICOMDIR and SHA256.TXT are rebuilt, not copied


@pytest.mark.parametrize("fmt", ["iso", "dir"])
def test_an_output_that_appears_while_building_is_not_replaced(
    course_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    out = tmp_path / f"out.{fmt}"

    def verify_while_someone_writes(path: Path, profile: object, **kwargs: object) -> Report:
        out.write_bytes(b"written by someone else meanwhile")
        return check_medium(path, CD, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("mediakit.build.check_medium", verify_while_someone_writes)
    with pytest.raises(InputError, match="appeared while building"):
        build_medium([course_dir], out, CD, fmt=fmt)  # type: ignore[arg-type]
    assert out.read_bytes() == b"written by someone else meanwhile"
    assert leftovers(tmp_path) == []


def test_copies_are_staged_beside_the_output_and_a_killed_builds_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-encoded copies are patient data: made beside the output (0700), not in /tmp."""
    export = tmp_path / "export"
    write_course(export, 22, quirks=["implicit"])
    stale = tmp_path / ".out.iso.staging-999999999"  # no such process
    (stale / "in").mkdir(parents=True)
    (stale / "in" / "re00000000").write_bytes(b"left by a killed build")
    seen: list[tuple[Path, int]] = []
    import mediakit.build as build

    real = build.normalise

    def spy(collected, profile, staging, *, fix):  # type: ignore[no-untyped-def]
        seen.append((staging, staging.stat().st_mode & 0o777))
        return real(collected, profile, staging, fix=fix)

    monkeypatch.setattr(build, "normalise", spy)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "no-such-tmp"))  # /tmp is not used at all
    result = build_medium([export], tmp_path / "out.iso", CD)
    assert result.output is not None
    [(staging, mode)] = seen
    assert staging.parent == tmp_path and staging.name.startswith(".out.iso.staging-")
    assert mode == 0o700
    assert not stale.exists() and leftovers(tmp_path) == []
