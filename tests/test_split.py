"""--split: content beyond one medium goes onto several complete, independent File-sets.

Capacity is made small with dataclasses.replace on the profile, so the courses
stay tiny; one test (MEDIAKIT_LARGE_TESTS=1) splits a real 1.5 GB course over
STD-GEN-CD. Each volume is judged by dciodvfy (its DICOMDIR), isoinfo (volume
id = File-set ID) and our check; the volumes together must hold exactly the
unsplit medium's instances, byte for byte.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from fixtures.rtcourse import write_course
from mediakit.build import build_medium
from mediakit.check.runner import Report, check_medium
from mediakit.errors import InternalError
from mediakit.findings import Severity
from mediakit.media import open_medium
from mediakit.profiles import Profile, load_profile
from mediakit.split import OVERHEAD_PER_FILE, OVERHEAD_PER_VOLUME, plan_volumes, volume_id
from tests.conftest import needs, run_cli

CD = load_profile("STD-GEN-CD")


def instances(medium: Path) -> dict[str, str]:
    """SOP Instance UID -> SHA-256 of its file, read by our reader from the medium."""
    out = {}
    with open_medium(medium) as m:
        for f in m.files():
            if not f.parts[0].startswith("PT"):
                continue
            data = m.read_bytes(f, 1 << 30)
            ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
            out[str(ds.SOPInstanceUID)] = hashlib.sha256(data).hexdigest()
    return out


def studies(medium: Path) -> dict[str, set[str]]:
    """Study Instance UID -> Series Instance UIDs on a medium, from its instances."""
    out: dict[str, set[str]] = {}
    with open_medium(medium) as m:
        for f in m.files():
            if f.parts[0].startswith("PT"):
                data = m.read_bytes(f, 1 << 30)
                ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
                out.setdefault(str(ds.StudyInstanceUID), set()).add(str(ds.SeriesInstanceUID))
    return out


def sizes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def capacity_for(folder: Path, files: int) -> int:
    """A capacity holding about this folder's content: one study of it, not two."""
    return sizes(folder) + files * OVERHEAD_PER_FILE + OVERHEAD_PER_VOLUME


@pytest.fixture(scope="module")
def three_patients(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("three") / "export"
    write_course(folder, 11, patients=3)
    return folder


def small_cd(three_patients: Path) -> Profile:
    """A CD that holds one patient's study (11 files) but not two."""
    return replace(CD, capacity_bytes=capacity_for(three_patients / "patient000", 11) + 4096)


# --- the plan ------------------------------------------------------------------------------


def _head(patient: str, study: str, series: str, number: int) -> Dataset:
    ds = Dataset()
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = patient, study, series
    ds.StudyDate, ds.SeriesNumber = "20240101", number
    return ds


def test_the_plan_keeps_studies_whole_and_fills_volumes_in_order() -> None:
    heads = [_head("P", f"1.{s}", f"1.{s}.1", 1) for s in (1, 2, 3, 4)]
    size = 100_000
    capacity = OVERHEAD_PER_VOLUME + 2 * (size + OVERHEAD_PER_FILE)  # two studies a volume
    plan = plan_volumes(heads, [size] * 4, capacity)
    assert [v.members for v in plan.volumes] == [(0, 1), (2, 3)]
    assert all(p.whole for v in plan.volumes for p in v.parts)
    assert all(v.bytes <= capacity for v in plan.volumes)
    again = plan_volumes(heads, [size] * 4, capacity)
    assert again == plan  # the same inputs, the same split


def test_the_plan_fills_an_earlier_volume_with_a_later_small_study() -> None:
    heads = [_head("P", f"1.{s}", f"1.{s}.1", 1) for s in (1, 2, 3)]
    capacity = OVERHEAD_PER_VOLUME + 300_000
    plan = plan_volumes(heads, [200_000, 200_000, 50_000], capacity)
    assert [v.members for v in plan.volumes] == [(0, 2), (1,)]


def test_a_study_larger_than_a_volume_is_split_by_whole_series() -> None:
    heads = [_head("P", "1.1", f"1.1.{n}", n) for n in (1, 1, 2, 2, 3)]
    capacity = OVERHEAD_PER_VOLUME + 2 * (100_000 + OVERHEAD_PER_FILE)  # one series of two
    plan = plan_volumes(heads, [100_000] * 5, capacity)
    assert [v.members for v in plan.volumes] == [(0, 1), (2, 3), (4,)]
    assert [p.series for v in plan.volumes for p in v.parts] == [("1.1.1",), ("1.1.2",), ("1.1.3",)]
    assert not any(p.whole for v in plan.volumes for p in v.parts)


def test_a_series_larger_than_a_volume_cannot_be_placed() -> None:
    heads = [_head("P", "1.1", "1.1.1", 1)] * 3
    plan = plan_volumes(heads, [100_000] * 3, OVERHEAD_PER_VOLUME + 150_000)
    assert plan.volumes == () and [f.code for f in plan.findings] == ["V303"]
    assert "1.1.1" in plan.findings[0].path and "never cut" in plan.findings[0].message


def test_volume_ids_are_file_set_ids() -> None:
    assert volume_id("TRANSFER", 2) == "TRANSFER_2"
    assert volume_id("A_VERY_LONG_NAME", 12) == "A_VERY_LONG_N_12"
    assert all(len(volume_id("X" * 16, n)) <= 16 for n in range(1, 200))


# --- built volumes -------------------------------------------------------------------------


def test_three_patients_on_three_volumes_each_complete(
    three_patients: Path, tmp_path: Path
) -> None:
    small = small_cd(three_patients)
    out = tmp_path / "transfer.iso"
    result = build_medium([three_patients], out, small, split_volumes=True)
    outputs = [tmp_path / f"transfer-{n}.iso" for n in (1, 2, 3)]
    assert [w.output for w in result.volumes] == outputs and result.output == outputs[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in outputs]
    assert [w.volume_id for w in result.volumes] == ["TRANSFER_1", "TRANSFER_2", "TRANSFER_3"]
    assert len({w.fileset_uid for w in result.volumes}) == 3
    seen: Counter[str] = Counter()
    for w in result.volumes:
        report = check_medium(w.output, small)
        assert [f.line() for f in report.findings if f.severity is not Severity.INFO] == []
        assert report.snapshot.directory is not None
        assert report.snapshot.directory.fileset_id == w.volume_id
        names = {"/".join(f.file.parts) for f in report.snapshot.files}
        assert {"SHA256.TXT", "README.TXT", "INDEX.HTM", "IHE_PDI/PATIENTS.HTM"} <= names
        (part,) = w.parts
        assert part.whole and studies(w.output) == {part.study: set(part.series)}
        seen.update(studies(w.output).keys())
    assert set(seen.values()) == {1}  # every study on exactly one volume


def test_the_volumes_hold_what_the_unsplit_medium_holds(
    three_patients: Path, tmp_path: Path
) -> None:
    result = build_medium([three_patients], tmp_path / "s.iso", small_cd(three_patients),
                          split_volumes=True)  # fmt: skip
    whole = build_medium([three_patients], tmp_path / "whole.iso", CD)
    assert whole.output is not None and len(result.volumes) == 3
    union: dict[str, str] = {}
    for w in result.volumes:
        mine = instances(w.output)
        assert not set(mine) & set(union)  # no instance twice
        union.update(mine)
    assert union == instances(whole.output)  # same SOP Instance UIDs, same bytes


def test_a_study_too_big_for_a_volume_goes_by_series(course_dir: Path, tmp_path: Path) -> None:
    ct = sum(p.stat().st_size for p in course_dir.glob("CT.*"))
    small = replace(CD, capacity_bytes=OVERHEAD_PER_VOLUME + ct + 5 * OVERHEAD_PER_FILE)
    result = build_medium([course_dir], tmp_path / "c.iso", small, split_volumes=True)
    assert len(result.volumes) >= 2, [f.line() for f in result.findings]
    series_seen: Counter[str] = Counter()
    for w in result.volumes:
        (part,) = w.parts
        assert not part.whole
        for uids in studies(w.output).values():
            series_seen.update(uids)
            assert uids == set(part.series)
        report = check_medium(w.output, small)
        assert not [f for f in report.findings if f.severity is Severity.ERROR]
    assert set(series_seen.values()) == {1} and len(series_seen) == 8  # each series whole, once


def test_a_series_too_big_for_a_volume_writes_nothing(course_dir: Path, tmp_path: Path) -> None:
    tiny = replace(CD, capacity_bytes=OVERHEAD_PER_VOLUME + 6000)  # less than the CT series
    out = tmp_path / "c.iso"
    result = build_medium([course_dir], out, tiny, split_volumes=True)
    assert result.output is None and result.volumes == ()
    assert {f.code for f in result.findings} == {"V303"}  # one for each series too big
    ct = str(pydicom.dcmread(course_dir / "CT.1.dcm").SeriesInstanceUID)
    assert f"SERIES {ct}" in {f.path for f in result.findings}
    assert list(tmp_path.iterdir()) == []


def test_content_that_fits_is_one_medium_under_its_own_name(
    course_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "one.iso"
    run = run_cli("build", course_dir, "-o", out, "--split", "--json")
    assert run.returncode == 0, run.stderr
    (volume,) = json.loads(run.stdout)["volumes"]
    assert volume["output"] == str(out) and volume["volume_id"] == "ONE"
    assert volume["studies"][0]["whole"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.iso"]


@pytest.mark.parametrize(
    ("fmt", "name", "expected"), [("dir", "usb", "usb-2"), ("zip", "t.zip", "t-2.zip")]
)
def test_split_names_for_folders_and_zips(
    three_patients: Path, tmp_path: Path, fmt: str, name: str, expected: str
) -> None:
    result = build_medium([three_patients], tmp_path / name, small_cd(three_patients),
                          fmt=fmt, split_volumes=True)  # type: ignore[arg-type]  # fmt: skip
    assert result.volumes[1].output == tmp_path / expected
    if fmt == "dir" and shutil.which("sha256sum"):  # each volume's manifest, by coreutils
        for w in result.volumes:
            check = subprocess.run(["sha256sum", "-c", "--strict", "SHA256.TXT"],
                                   cwd=w.output, capture_output=True, text=True)  # fmt: skip
            assert check.returncode == 0, check.stdout


def test_if_one_volume_fails_none_appears(
    three_patients: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def second_fails(path: Path, profile: Profile, **kwargs: object) -> Report:
        report = check_medium(path, profile, **kwargs)  # type: ignore[arg-type]
        calls.append(path)
        if len(calls) == 2:
            from mediakit.findings import finding

            report = replace(report, findings=(*report.findings, finding("D112", "x", "planted")))
        return report

    monkeypatch.setattr("mediakit.build.check_medium", second_fails)
    keep = tmp_path / "map.json"
    with pytest.raises(InternalError, match="fails its own check"):
        build_medium([three_patients], tmp_path / "t.iso", small_cd(three_patients),
                     split_volumes=True, deidentify=True, keep_map=keep)  # fmt: skip
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []


def test_the_json_report_says_what_went_where(three_patients: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(three_patients, folder)
    small = small_cd(three_patients)
    result = build_medium([folder], tmp_path / "t.iso", small, split_volumes=True)
    from mediakit.volumes import volumes_doc, volumes_text

    doc = volumes_doc(result.volumes)
    assert [v["output"] for v in doc] == [str(tmp_path / f"t-{n}.iso") for n in (1, 2, 3)]
    assert set(doc[0]) == {"output", "volume_id", "fileset_uid", "instances", "bytes", "studies"}
    assert set(doc[0]["studies"][0]) == {"study_instance_uid", "whole", "series"}
    assert sum(v["instances"] for v in doc) == 33
    text = volumes_text(result.volumes, "iso")
    assert text[0].startswith(f"wrote {tmp_path / 't-1.iso'} (iso, volume T_1, 1 of 3")


def test_the_cli_splits_and_reports(
    three_patients: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from mediakit import cli

    small = small_cd(three_patients)
    monkeypatch.setattr(cli, "load_profile", lambda name: small)
    out = tmp_path / "t.iso"
    result = CliRunner().invoke(cli.main, ["build", str(three_patients), "-o", str(out), "--split"],
                                catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.count("read back and verified") == 3
    assert "study " in result.output and ": whole" in result.output


@needs("dciodvfy")
@pytest.mark.oracle
def test_dciodvfy_and_isoinfo_accept_every_volume(three_patients: Path, tmp_path: Path) -> None:
    result = build_medium([three_patients], tmp_path / "t.iso", small_cd(three_patients),
                          split_volumes=True)  # fmt: skip
    for w in result.volumes:
        _oracles(w.output, w.volume_id, tmp_path)


def _oracles(image: Path, vid: str, tmp_path: Path) -> None:
    """dciodvfy on the volume's DICOMDIR (extracted by bsdtar); isoinfo's volume id."""
    if shutil.which("bsdtar") is None or shutil.which("isoinfo") is None:
        pytest.skip("bsdtar or isoinfo not installed")
    dicomdir = tmp_path / f"{vid}.DICOMDIR"
    got = subprocess.run(["bsdtar", "-xOf", str(image), "DICOMDIR"], capture_output=True,
                         check=True).stdout  # fmt: skip
    dicomdir.write_bytes(got)
    check = subprocess.run(["dciodvfy", str(dicomdir)], capture_output=True, text=True)
    lines = (check.stdout + check.stderr).splitlines()
    assert "BasicDirectory" in check.stdout + check.stderr
    assert [line for line in lines if line.startswith("Error")] == [], image
    info = subprocess.run(["isoinfo", "-d", "-i", str(image)], capture_output=True, text=True)
    assert f"Volume id: {vid}\n" in info.stdout


def test_import_of_the_volumes_equals_import_of_the_unsplit_medium(
    three_patients: Path, tmp_path: Path
) -> None:
    importer = pytest.importorskip(
        "mediakit.importer", reason="mediakit.importer is not merged yet (branch issue-5-import)"
    )
    result = build_medium([three_patients], tmp_path / "s.iso", small_cd(three_patients),
                          split_volumes=True)  # fmt: skip
    whole = build_medium([three_patients], tmp_path / "whole.iso", CD)
    assert whole.output is not None
    a, b = tmp_path / "store-split", tmp_path / "store-whole"
    for w in result.volumes:
        assert run_cli("import", w.output, "--to", a).returncode == 0
    assert run_cli("import", whole.output, "--to", b).returncode == 0
    assert importer is not None
    assert _store(a) == _store(b)


def _store(root: Path) -> dict[str, str]:
    """Every DICOM file in a store by SOP Instance UID -> SHA-256 (the index is not compared)."""
    out = {}
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            if data[128:132] == b"DICM":
                ds = pydicom.dcmread(p, stop_before_pixels=True)
                out[str(ds.SOPInstanceUID)] = hashlib.sha256(data).hexdigest()
    return out


# --- the real thing --------------------------------------------------------------------------


def _four_d_course(folder: Path, phases: int, slices: int) -> None:
    """A course whose planning study has several CT series (4D CT phases) of ~500 MB each."""
    write_course(folder, 21, n_slices=slices, matrix=512)
    cts = sorted(folder.glob("CT.*.dcm"))
    for phase in range(1, phases):
        series = pydicom.uid.generate_uid(entropy_srcs=["mediakit-tests", "phase", str(phase)])
        for n, path in enumerate(cts):
            ds = pydicom.dcmread(path)
            ds.SeriesInstanceUID = series
            ds.SeriesNumber = 100 + phase
            ds.SOPInstanceUID = pydicom.uid.generate_uid(
                entropy_srcs=["mediakit-tests", "phase", str(phase), str(n)]
            )
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.save_as(folder / f"CT.phase{phase}.{n}.dcm")


@pytest.mark.skipif(
    os.environ.get("MEDIAKIT_LARGE_TESTS") != "1",
    reason="builds a 1.5 GB course onto three CD images; set MEDIAKIT_LARGE_TESTS=1 to run",
)
def test_a_1_5_gb_course_on_three_real_cds(tmp_path: Path) -> None:
    started = time.monotonic()
    folder = tmp_path / "course"
    _four_d_course(folder, phases=3, slices=950)  # 3 x 950 x 512 KiB: 1.5 GB
    made = time.monotonic()
    assert sizes(folder) > 1_450_000_000
    run = run_cli("build", folder, "-o", tmp_path / "course.iso", "--profile", "STD-GEN-CD",
                  "--split", "--json", "--quiet")  # fmt: skip
    assert run.returncode == 0, run.stderr
    built = time.monotonic()
    doc = json.loads(run.stdout)
    assert [v["volume_id"] for v in doc["volumes"]] == ["COURSE_1", "COURSE_2", "COURSE_3"]
    union: dict[str, str] = {}
    for v in doc["volumes"]:
        image = Path(v["output"])
        assert image.stat().st_size <= CD.capacity_bytes
        check = run_cli("check", image, "--profile", "STD-GEN-CD", "--json")
        assert json.loads(check.stdout)["counts"]["error"] == 0, check.stdout
        _oracles(image, v["volume_id"], tmp_path)
        union.update(instances(image))
    checked = time.monotonic()
    whole = run_cli("build", folder, "-o", tmp_path / "whole", "--format", "dir", "--no-pdi",
                    "--profile", "STD-GEN-USB-JPEG", "--quiet")  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    assert union == instances(tmp_path / "whole")
    compared = time.monotonic()
    # What a receiving clinic gets: the three volumes imported one after the other into one
    # store hold what importing the unsplit medium into another store gives, byte for byte.
    split_store, whole_store = tmp_path / "store-split", tmp_path / "store-whole"
    for v in doc["volumes"]:
        imported = run_cli("import", v["output"], "--to", split_store, "--quiet")
        assert imported.returncode == 0, imported.stderr
    imported = run_cli("import", tmp_path / "whole", "--to", whole_store, "--quiet")
    assert imported.returncode == 0, imported.stderr
    stored = _store(split_store)
    assert len(stored) == len(union) == 3 * 950 + 7
    assert set(stored.values()) == set(_store(whole_store).values()) == set(union.values())
    assert stored == _store(whole_store)
    print(
        f"\n1.5 GB course: made in {made - started:.0f} s, split onto 3 CDs in "
        f"{built - made:.0f} s, checked in {checked - built:.0f} s, compared in "
        f"{compared - checked:.0f} s, imported and compared in "
        f"{time.monotonic() - compared:.0f} s"
    )
