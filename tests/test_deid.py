"""--deidentify: no original identity anywhere on the medium, and the RT course still whole.

The search for the original identity reads every element of every DICOM file
(File Meta, dataset, every sequence item, the DICOMDIR's records) as pydicom
decodes it, and the raw bytes of every file, PDI pages and manifest included:
not a list of attributes. dciodvfy judges the de-identified files.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
import subprocess
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from mediakit.build import build_medium
from mediakit.check.runner import check_medium
from mediakit.media import open_medium
from mediakit.profiles import load_profile
from mediakit.rt import build_graph
from tests.conftest import assert_one_line_error, needs, run_cli

CD = load_profile("STD-GEN-CD")
NAME, PATIENT_ID, BIRTH = "MKTEST^COURSE7", "MK0007000", "19440501"
# Every form the original identity may take: the name, its parts, the ID, the birth date.
NEEDLES = (NAME, "MKTEST", "COURSE7", PATIENT_ID, BIRTH, "1944-05-01")
SECRET = "mediakit-tests"  # a fixed seed, so the pseudonyms are the same on every run


def _values(ds: Dataset) -> Iterator[str]:
    """Every value of every element, sequences included, as text."""
    for elem in ds.iterall():
        value = elem.value
        if isinstance(value, bytes):
            yield value.decode("latin-1")
        elif elem.VR != "SQ":
            yield str(value)


def every_value(medium: Path) -> Iterator[tuple[str, str]]:
    """(file, text) for every element of every DICOM file and the bytes of every file."""
    with open_medium(medium) as m:
        for f in m.files():
            data = m.read_bytes(f, 1 << 26)
            yield f.raw, data.decode("latin-1")
            if data[128:132] == b"DICM":
                ds = pydicom.dcmread(io.BytesIO(data))
                yield from ((f.raw, v) for v in _values(ds.file_meta))
                yield from ((f.raw, v) for v in _values(ds))


def leaks(medium: Path, needles: tuple[str, ...] = NEEDLES) -> list[tuple[str, str]]:
    return sorted(
        {(where, n) for where, text in every_value(medium) for n in needles if n in text.upper()}
    )


@pytest.fixture(scope="module")
def telling_course(course_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course, with the identity repeated in free text and a private element."""
    folder = tmp_path_factory.mktemp("telling") / "export"
    shutil.copytree(course_dir, folder)
    for path in folder.iterdir():
        ds = pydicom.dcmread(path)
        ds.StudyDescription = f"Course of {NAME} ({PATIENT_ID}), born {BIRTH}"
        ds.PatientComments = "Mktest Course7 prefers mornings"
        block = ds.private_block(0x0011, "MKTEST PRIVATE", create=True)
        block.add_new(0x01, "LO", f"{PATIENT_ID} private copy")
        if "RTPlanLabel" in ds:
            ds.RTPlanLabel = f"{PATIENT_ID}_PLAN"
        ds.save_as(path)
    return folder


@pytest.fixture(scope="module")
def deid_iso(telling_course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deid") / "trial.iso"
    result = build_medium([telling_course], out, CD, deidentify=True, secret=SECRET)
    assert result.output == out and result.deidentified, [f.line() for f in result.findings]
    return out


def test_the_search_finds_the_identity_on_a_plain_medium(
    telling_course: Path, tmp_path: Path
) -> None:
    """The search below can fail: without --deidentify it finds every form of the identity."""
    out = tmp_path / "plain.iso"
    build_medium([telling_course], out, CD)
    found = {n for _, n in leaks(out)}
    assert found == set(NEEDLES)


def test_no_original_identity_anywhere_on_the_medium(deid_iso: Path) -> None:
    assert leaks(deid_iso) == []


def test_no_original_identity_in_the_extracted_pdi_pages(deid_iso: Path, tmp_path: Path) -> None:
    if shutil.which("bsdtar") is None:
        pytest.skip("bsdtar not installed")
    subprocess.run(["bsdtar", "-xf", str(deid_iso), "-C", str(tmp_path)], check=True)
    for name in ("INDEX.HTM", "README.TXT", "IHE_PDI/PATIENTS.HTM", "IHE_PDI/ST000001.HTM"):
        text = (tmp_path / name).read_text("utf-8").upper()
        assert not [n for n in NEEDLES if n in text], name
    assert "MK0007000" not in (tmp_path / "SHA256.TXT").read_text()


def test_the_course_builds_with_no_r_finding_and_passes_check(
    course_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "d.iso"
    run = run_cli("build", course_dir, "-o", out, "--deidentify", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["deidentified"] is True and doc["status"] == "pass"
    assert [f for f in doc["findings"] if f["code"][0] == "R"] == []
    report = check_medium(out, CD)
    assert [f.line() for f in report.findings if f.severity.value != "info"] == []
    assert leaks(out) == []


def _r_codes(medium: Path) -> Counter[str]:
    return Counter(f.code for f in check_medium(medium, CD).findings if f.code[0] == "R")


def test_rt_findings_are_the_same_before_and_after(course_dir: Path, tmp_path: Path) -> None:
    """A course with a broken link (no structure set): the same R findings, and no new one."""
    folder = tmp_path / "partial"
    shutil.copytree(course_dir, folder)
    (folder / "RS.dcm").unlink()
    plain = build_medium([folder], tmp_path / "p.iso", CD)
    deid = build_medium([folder], tmp_path / "d.iso", CD, deidentify=True, secret=SECRET)
    before = Counter((f.code, f.path) for f in plain.findings if f.code[0] == "R")
    after = Counter((f.code, f.path) for f in deid.findings if f.code[0] == "R")
    assert before == after and before  # R501 for both plans, R509 ...: not nothing
    assert _r_codes(tmp_path / "p.iso") == _r_codes(tmp_path / "d.iso")


def _datasets(medium: Path) -> list[Dataset]:
    out: list[Dataset] = []
    with open_medium(medium) as m:
        for f in m.files():
            if f.parts[0].startswith("PT"):
                out.append(pydicom.dcmread(io.BytesIO(m.read_bytes(f, 1 << 26))))
    return out


def test_references_and_frames_of_reference_stay_linked(course_dir: Path, deid_iso: Path) -> None:
    originals = [pydicom.dcmread(p) for p in sorted(course_dir.iterdir())]
    new = _datasets(deid_iso)
    old_uids = {str(u) for ds in originals for u in _uids(ds)}
    new_uids = {str(u) for ds in new for u in _uids(ds)}
    assert old_uids and not old_uids & new_uids  # every instance UID replaced
    frames = {str(ds.FrameOfReferenceUID) for ds in new if "FrameOfReferenceUID" in ds}
    old_frames = {str(ds.FrameOfReferenceUID) for ds in originals if "FrameOfReferenceUID" in ds}
    assert len(frames) == len(old_frames) and not frames & old_frames
    graph = build_graph((str(ds.SOPInstanceUID), ds) for ds in new)
    refs = [r for node in graph.rt_nodes() for r in node.refs]
    assert refs and all(graph.present(r) for r in refs if r.role in ("structure set", "plan"))
    plan = next(ds for ds in new if ds.SOPClassUID.name == "RT Plan Storage")
    ss = next(ds for ds in new if ds.SOPClassUID.name == "RT Structure Set Storage")
    assert plan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == ss.SOPInstanceUID
    assert plan.FrameOfReferenceUID == ss.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID
    assert plan.ReferencedStructureSetSequence[0].ReferencedSOPClassUID == ss.SOPClassUID


def _uids(ds: Dataset) -> Iterator[str]:
    for elem in ds.iterall():
        if elem.VR == "UI" and not elem.keyword.endswith(("ClassUID", "TransferSyntaxUID")):
            yield from (elem.value if isinstance(elem.value, list) else [elem.value])


def _dates(ds: Dataset) -> dict[str, str]:
    """Every DA value by where it is (keyword path, sequence items numbered)."""
    out: dict[str, str] = {}

    def walk(item: Dataset, prefix: str) -> None:
        for elem in item:
            if elem.VR == "SQ":
                for n, sub in enumerate(elem.value):
                    walk(sub, f"{prefix}{elem.keyword}[{n}].")
            elif elem.VR == "DA" and elem.value:
                out[prefix + elem.keyword] = str(elem.value)

    walk(ds, "")
    return out


def test_dates_move_together_so_every_interval_is_kept(course_dir: Path, tmp_path: Path) -> None:
    keep = tmp_path / "map.json"
    out = tmp_path / "d.iso"
    build_medium([course_dir], out, CD, deidentify=True, keep_map=keep, secret=SECRET)
    mapping = json.loads(keep.read_text())
    shift = mapping["date_shift_days"]
    assert -730 <= shift <= -62
    by_uid = {str(ds.SOPInstanceUID): ds for ds in _datasets(out)}
    deltas, times = set(), 0
    for path in sorted(course_dir.iterdir()):
        old = pydicom.dcmread(path)
        new = by_uid[mapping["uids"][str(old.SOPInstanceUID)]]
        for where, value in _dates(old).items():
            moved = _dates(new)[where]
            deltas.add((date.fromisoformat(moved) - date.fromisoformat(value)).days)
        for kw in ("StudyTime", "SeriesTime", "ContentTime"):
            if kw in old:
                assert new[kw].value == old[kw].value  # whole days: times of day kept
                times += 1
    assert deltas == {shift} and times > 10


def test_private_elements_are_removed(deid_iso: Path) -> None:
    for ds in _datasets(deid_iso):
        assert not [e for e in ds.iterall() if e.tag.is_private], ds.SOPInstanceUID


def test_identity_in_free_text_is_replaced_and_reported(
    telling_course: Path, tmp_path: Path
) -> None:
    result = build_medium([telling_course], tmp_path / "d.iso", CD, deidentify=True, secret=SECRET)
    x701 = [f for f in result.findings if f.code == "X701"]
    assert len(x701) == 11  # every instance: Study Description (Patient Comments is removed)
    plan = next(f for f in x701 if f.path.endswith("RP.photon.dcm"))
    assert "StudyDescription" in plan.message and "PatientComments" not in plan.message
    (label,) = [f for f in result.findings if f.code == "X703" and f.path == plan.path]
    assert "RTPlanLabel" in label.message  # an RT label: its own code, with the new value
    for f in (plan, label):
        assert PATIENT_ID not in f.message and "MKTEST" not in f.message  # never the identity
    mapping_id = next(ds.PatientID for ds in _datasets(tmp_path / "d.iso") if "RTPlanLabel" in ds)
    labels = {str(ds.RTPlanLabel) for ds in _datasets(tmp_path / "d.iso") if "RTPlanLabel" in ds}
    assert labels == {f"{mapping_id}_PLAN"[:16]}


def test_one_pseudonym_per_patient(course_dir: Path, tmp_path: Path) -> None:
    """dicognito picks first names by sex; a patient whose exports differ still gets one name."""
    folder = tmp_path / "mixed"
    shutil.copytree(course_dir, folder)
    ds = pydicom.dcmread(folder / "RD.dcm")
    ds.PatientSex = "M" if ds.PatientSex == "F" else "F"
    ds.save_as(folder / "RD.dcm")
    out = tmp_path / "d.iso"
    build_medium([folder], out, CD, deidentify=True, secret=SECRET)
    names = {str(d.PatientName) for d in _datasets(out)}
    ids = {str(d.PatientID) for d in _datasets(out)}
    assert len(names) == 1 and len(ids) == 1


def test_the_same_secret_gives_the_same_pseudonyms_and_none_differs(
    course_dir: Path, tmp_path: Path
) -> None:
    same = {"deidentify": True, "volume_id": "TRIAL", "pdi_content": False}
    a = build_medium([course_dir], tmp_path / "a.iso", CD, secret=SECRET, **same)  # type: ignore[arg-type]
    b = build_medium([course_dir], tmp_path / "b.iso", CD, secret=SECRET, **same)  # type: ignore[arg-type]
    build_medium([course_dir], tmp_path / "c.iso", CD, **same)  # type: ignore[arg-type]
    assert a.manifest == b.manifest  # every DICOM file and the DICOMDIR, byte for byte
    names = [{str(d.PatientName) for d in _datasets(tmp_path / n)} for n in ("a.iso", "c.iso")]
    assert names[0] != names[1]  # without a secret, a new random one each run


def test_the_input_is_never_modified(course_dir: Path, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in course_dir.iterdir()}
    build_medium([course_dir], tmp_path / "d.iso", CD, deidentify=True)
    assert {p.name: p.read_bytes() for p in course_dir.iterdir()} == before


@needs("dciodvfy")
@pytest.mark.oracle
def test_dciodvfy_finds_no_error_in_the_deidentified_files(deid_iso: Path, tmp_path: Path) -> None:
    with open_medium(deid_iso) as m:
        for f in m.files():
            if f.parts[0].startswith("PT") or f.parts == ("DICOMDIR",):
                path = tmp_path / "_".join(f.parts)
                path.write_bytes(m.read_bytes(f, 1 << 26))
                check = subprocess.run(
                    ["dciodvfy", str(path)], capture_output=True, text=True, timeout=60
                )
                errors = [
                    line
                    for line in (check.stdout + check.stderr).splitlines()
                    if line.startswith("Error")
                ]
                assert errors == [], (f.raw, errors)


# --- --keep-map --------------------------------------------------------------------------


def test_the_map_is_written_only_when_asked(course_dir: Path, tmp_path: Path) -> None:
    build_medium([course_dir], tmp_path / "d.iso", CD, deidentify=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.iso"]


def test_the_map_re_identifies_the_medium(course_dir: Path, tmp_path: Path) -> None:
    keep = tmp_path / "keys" / "map.json"
    keep.parent.mkdir()
    out = tmp_path / "d.iso"
    run = run_cli("build", course_dir, "-o", out, "--deidentify", "--keep-map", keep)
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE(keep.stat().st_mode) == 0o600
    mapping = json.loads(keep.read_text("utf-8"))
    assert mapping["format"] == 1 and set(mapping) >= {"patients", "uids", "date_shift_days"}
    (patient,) = mapping["patients"]
    assert patient["original"] == {
        "patient_id": PATIENT_ID,
        "patient_name": NAME,
        "birth_date": BIRTH,
    }
    new = _datasets(out)
    assert {str(d.PatientID) for d in new} == {patient["pseudonym"]["patient_id"]}
    for path in course_dir.iterdir():
        old = pydicom.dcmread(path, stop_before_pixels=True)
        assert mapping["uids"][str(old.SOPInstanceUID)] in {str(d.SOPInstanceUID) for d in new}
    assert leaks(out) == []  # the map is not on the medium


def test_keep_map_inside_the_output_is_refused(course_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "usb"
    run = run_cli(
        "build", course_dir, "-o", out, "--format", "dir", "--deidentify",
        "--keep-map", out / "map.json",
    )  # fmt: skip
    assert_one_line_error(run, 2, "--keep-map", "inside the output")
    assert not out.exists()
    same = run_cli("build", course_dir, "-o", tmp_path / "x.iso", "--deidentify",
                   "--keep-map", tmp_path / "x.iso")  # fmt: skip
    assert_one_line_error(same, 2, "--keep-map")


def test_keep_map_is_refused_without_deidentify_or_when_it_exists(
    course_dir: Path, tmp_path: Path
) -> None:
    run = run_cli("build", course_dir, "-o", tmp_path / "a.iso", "--keep-map", tmp_path / "m")
    assert_one_line_error(run, 2, "--keep-map", "--deidentify")
    (tmp_path / "m").write_text("precious")
    run = run_cli(
        "build", course_dir, "-o", tmp_path / "a.iso", "--deidentify", "--keep-map", tmp_path / "m"
    )
    assert_one_line_error(run, 2, "already exists")
    assert (tmp_path / "m").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_no_map_when_the_build_fails(course_dir: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    keep = tmp_path / "map.json"
    tiny = replace(CD, capacity_bytes=500_000)
    result = build_medium([course_dir], tmp_path / "d.iso", tiny, deidentify=True, keep_map=keep)
    assert result.output is None and not keep.exists()


def test_tps_exports_are_normalised_then_deidentified(tmp_path: Path) -> None:
    """Implicit VR without File Meta: the re-encoding is reported as usual, then de-identified."""
    from fixtures.rtcourse import write_course

    folder = tmp_path / "tps"
    write_course(folder, 7, quirks=["no_meta", "no_instance_number"])
    out = tmp_path / "d.iso"
    result = build_medium([folder], out, CD, deidentify=True, secret=SECRET)
    codes = Counter(f.code for f in result.findings)
    assert codes["P101"] == 11 and codes["D122"] > 0 and not [c for c in codes if c[0] == "R"]
    assert result.rewritten == 11 and leaks(out) == []
    refused = build_medium([folder], tmp_path / "n.iso", CD, deidentify=True, fix=False)
    assert refused.output is None and not (tmp_path / "n.iso").exists()


def test_a_date_that_is_no_date_is_emptied(course_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    shutil.copytree(course_dir, folder)
    ds = pydicom.dcmread(folder / "RP.photon.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom says it is no date: that is the point
        ds.RTPlanDate = "20229999"
    ds.save_as(folder / "RP.photon.dcm")
    out = tmp_path / "d.iso"
    result = build_medium([folder], out, CD, deidentify=True, secret=SECRET)
    (x702,) = [f for f in result.findings if f.code == "X702"]
    assert x702.path.endswith("RP.photon.dcm") and "RTPlanDate" in x702.message
    plan = next(d for d in _datasets(out) if d.SOPClassUID.name == "RT Plan Storage")
    assert plan.RTPlanDate == ""


def test_registry_uids_are_kept(course_dir: Path, tmp_path: Path) -> None:
    """A well-known UID (here a frame of reference of the DICOM registry) names a thing."""
    talairach = "1.2.840.10008.1.4.1.1"  # Talairach Brain Atlas Frame of Reference
    folder = tmp_path / "atlas"
    shutil.copytree(course_dir, folder)
    ds = pydicom.dcmread(folder / "REG.dcm")
    ds.RegistrationSequence[1].FrameOfReferenceUID = talairach
    ds.save_as(folder / "REG.dcm")
    out = tmp_path / "d.iso"
    build_medium([folder], out, CD, deidentify=True, secret=SECRET)
    reg = next(d for d in _datasets(out) if d.SOPClassUID.name == "Spatial Registration Storage")
    assert reg.RegistrationSequence[1].FrameOfReferenceUID == talairach
    assert (
        reg.RegistrationSequence[0].FrameOfReferenceUID
        != ds.RegistrationSequence[0].FrameOfReferenceUID
    )
