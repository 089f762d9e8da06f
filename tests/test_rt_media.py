"""RT referential integrity end to end: build, check and ls on the course and pydicom files.

For every link of the synthetic course, a medium built without the link's target
raises the R code that names it (build before writing, check afterwards) and
``--strict`` fails it. DCMTK's dcmdump reads the same files independently.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner
from pydicom import dcmread

from fixtures.rtcourse import kind_of, make_course, write_course
from mediakit import headerframe, part10, rt
from mediakit.build import build_medium
from mediakit.check.rt import snapshot_graph
from mediakit.check.runner import check_medium
from mediakit.check.snapshot import take_snapshot
from mediakit.cli import main
from mediakit.findings import Finding
from mediakit.media import open_medium
from mediakit.part10 import read_header, read_header_stream
from mediakit.profiles import load_profile
from tests.conftest import needs

CD = load_profile("STD-GEN-CD")
SEED, SLICES = 7, 4


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("course") / "export"
    write_course(out, SEED, n_slices=SLICES, matrix=8)
    return out


def _without(course_dir: Path, tmp: Path, pattern: str) -> Path:
    folder = tmp / "export"
    folder.mkdir()
    drop = set(course_dir.glob(pattern))
    assert drop, pattern
    for f in course_dir.iterdir():
        if f not in drop:
            shutil.copy(f, folder / f.name)
    return folder


def _r(found: tuple[Finding, ...] | list[Finding]) -> Counter[str]:
    return Counter(f.code for f in found if f.code.startswith("R"))


def _uid(path: Path) -> str:
    return str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def test_complete_course_has_no_r_findings(course_dir: Path, tmp_path: Path) -> None:
    result = build_medium([course_dir], tmp_path / "c.iso", CD)
    assert result.output is not None
    assert _r(result.findings) == Counter()
    assert _r(check_medium(tmp_path / "c.iso", CD).findings) == Counter()


# target removed -> the R findings it must cause (one per object that references it)
LINKS = {
    "RS.dcm": {"R501": 2},  # photon plan and ion plan -> structure set
    "CT.*.dcm": {"R502": 2},  # structure set and registration -> every CT slice
    "CT.2.dcm": {"R502": 2},  # ... one slice
    "RP.photon.dcm": {"R503": 3},  # dose, treatment record and RT Image -> plan
}


@pytest.mark.parametrize("target", list(LINKS))
def test_missing_target_is_named_by_build_and_check(
    course_dir: Path, tmp_path: Path, target: str
) -> None:
    export = _without(course_dir, tmp_path, target)
    gone = sorted(_uid(p) for p in course_dir.glob(target))
    result = build_medium([export], tmp_path / "m", CD, fmt="dir")
    assert result.output is not None  # warnings: the medium is still written
    r = [f for f in result.findings if f.code.startswith("R")]
    assert _r(r) == Counter(LINKS[target]), [f.line() for f in r]
    kind = "RT Structure Set" if target == "RS.dcm" else "RT Plan" if "RP" in target else "CT Image"
    for f in r:
        assert f.severity.value == "warning"
        assert kind in f.message
        assert any(u in f.message for u in gone)  # names what is missing by UID and type
    report = check_medium(tmp_path / "m", CD)
    assert _r(report.findings) == Counter(LINKS[target])

    runner = CliRunner()
    args = ["check", str(tmp_path / "m"), "--profile", "STD-GEN-CD"]
    check = runner.invoke(main, args, catch_exceptions=False)
    strict = runner.invoke(main, [*args, "--strict"], catch_exceptions=False)
    assert (check.exit_code, strict.exit_code) == (0, 1)
    out = tmp_path / "strict.iso"
    build = runner.invoke(
        main, ["build", str(export), "-o", str(out), "--strict", "--json"], catch_exceptions=False
    )
    assert build.exit_code == 1
    assert not out.exists()
    doc = json.loads(build.stdout)
    assert doc["status"] == "fail" and doc["output"] is None
    assert {f["code"] for f in doc["findings"] if f["severity"] == "error"} == set(LINKS[target])


@pytest.mark.parametrize("leaf", ["RD.dcm", "RT.record.dcm", "REG.dcm", "RI.dcm", "RP.ion.dcm"])
def test_objects_nothing_references_can_be_left_out(
    course_dir: Path, tmp_path: Path, leaf: str
) -> None:
    export = _without(course_dir, tmp_path, leaf)
    result = build_medium([export], tmp_path / "m", CD, fmt="dir", strict=True)
    assert result.output is not None
    assert _r(result.findings) == Counter()


def test_build_reports_r_findings_before_writing(course_dir: Path, tmp_path: Path) -> None:
    """An R error (a frame of reference mismatch) stops the build: nothing is written."""
    export = _without(course_dir, tmp_path, "RD.dcm")
    dose = dcmread(course_dir / "RD.dcm")
    dose.FrameOfReferenceUID = "1.2.3.4"
    dose.save_as(export / "RD.dcm")
    result = build_medium([export], tmp_path / "m.iso", CD)
    assert result.output is None and not (tmp_path / "m.iso").exists()
    assert _r(result.findings) == Counter({"R505": 1})
    for flags in ([], ["--strict"], ["--no-fix"]):
        # the error is one without any flag: dropping a flag would not help, so none is named
        run = CliRunner().invoke(
            main,
            ["build", str(export), "-o", str(tmp_path / "n.iso"), *flags],
            catch_exceptions=False,
        )
        assert run.exit_code == 1
        assert run.stdout.splitlines()[-1] == "nothing written: fix the errors above"


def test_build_names_the_flag_that_made_a_warning_an_error(
    course_dir: Path, tmp_path: Path
) -> None:
    export = _without(course_dir, tmp_path, "RS.dcm")  # R501: a warning, an error with --strict
    run = CliRunner().invoke(
        main,
        ["build", str(export), "-o", str(tmp_path / "n.iso"), "--strict"],
        catch_exceptions=False,
    )
    assert run.exit_code == 1
    assert run.stdout.splitlines()[-1] == "nothing written: fix the errors above (or drop --strict)"


def _ls(medium: Path) -> dict[str, object]:
    run = CliRunner().invoke(main, ["ls", str(medium), "--json"], catch_exceptions=False)
    assert run.exit_code == 0
    doc: dict[str, object] = json.loads(run.stdout)
    return doc


def _rt_leaves(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    out = {}
    for p in doc["patients"]:  # type: ignore[attr-defined]
        for s in p["studies"]:
            for se in s["series"]:
                for i in se["instances"]:
                    assert "rt" in i
                    if i["rt"]:
                        out[i["rt"]["type"]] = i["rt"]
    return out


def _dcmdump(path: Path, *tags: str) -> list[str]:
    args = [a for t in tags for a in ("+P", t)]
    run = subprocess.run(["dcmdump", *args, str(path)], capture_output=True, text=True, check=True)
    return [
        line.split("[", 1)[1].split("]", 1)[0] for line in run.stdout.splitlines() if "[" in line
    ]


def test_ls_json_lists_beams_and_rois_as_generated(course_dir: Path, tmp_path: Path) -> None:
    build_medium([course_dir], tmp_path / "c.iso", CD)
    course = make_course(SEED, n_slices=SLICES, matrix=8)
    rts = _rt_leaves(_ls(tmp_path / "c.iso"))
    assert set(rts) == {
        "RT PLAN", "RT ION PLAN", "RT STRUCTURE SET", "RT DOSE",
        "RT BEAMS TREATMENT RECORD", "SPATIAL REGISTRATION", "RT IMAGE",
    }  # fmt: skip
    for kind, seq in (("RTPLAN", "BeamSequence"), ("RTIONPLAN", "IonBeamSequence")):
        plan = course.one(kind)
        got = rts["RT PLAN" if kind == "RTPLAN" else "RT ION PLAN"]
        assert got["label"] == plan.RTPlanLabel and got["name"] == plan.RTPlanName
        beams = [
            (int(b.BeamNumber), str(b.BeamName), str(b.RadiationType)) for b in plan[seq].value
        ]
        assert [(b["number"], b["name"], b["radiation_type"]) for b in got["beams"]] == beams
        assert got["number_of_beams"] == len(beams)
        assert got["fractions_planned"] == int(
            plan.FractionGroupSequence[0].NumberOfFractionsPlanned
        )
        assert got["prescription_dose"] == pytest.approx(
            float(plan.DoseReferenceSequence[0].TargetPrescriptionDose)
        )
    ss = course.one("RTSTRUCT")
    rois = rts["RT STRUCTURE SET"]
    assert rois["label"] == ss.StructureSetLabel
    assert rois["number_of_rois"] == len(ss.StructureSetROISequence)
    assert [r["name"] for r in rois["rois"]] == [r.ROIName for r in ss.StructureSetROISequence]
    dose = rts["RT DOSE"]
    assert (dose["units"], dose["dose_type"], dose["summation_type"]) == ("GY", "PHYSICAL", "PLAN")
    record = rts["RT BEAMS TREATMENT RECORD"]
    assert record["treatment_date"] == course.one("RTRECORD").TreatmentDate
    assert all(r["present"] for leaf in rts.values() for r in leaf["references"])
    text = CliRunner().invoke(main, ["ls", str(tmp_path / "c.iso")], catch_exceptions=False)
    assert (
        "RT PLAN 'MKTEST_PHOTON'" in text.stdout
        and "3 ROIs (BODY, PTV, SPINAL_CORD)" in text.stdout
    )


def test_ls_names_what_each_rt_object_misses(course_dir: Path, tmp_path: Path) -> None:
    """The text tree says, on each RT object's line, which of its references are not here."""
    lines: dict[str, list[str]] = {}
    for target in ("RS.dcm", "CT.3.dcm"):
        (tmp_path / target).mkdir()
        export = _without(course_dir, tmp_path / target, target)
        out = CliRunner().invoke(main, ["ls", str(export)], catch_exceptions=False).stdout
        lines[target] = [line.strip() for line in out.splitlines()]
    no_rs, no_ct = lines["RS.dcm"], lines["CT.3.dcm"]
    assert any(
        x.startswith("RT PLAN 'MKTEST_PHOTON'") and x.endswith("; missing here: structure set")
        for x in no_rs
    ), no_rs
    assert any(
        x.startswith("SPATIAL REGISTRATION") and x.endswith(f"; missing here: 1 of {SLICES} images")
        for x in no_ct
    ), no_ct
    assert any(
        x.startswith("RT STRUCTURE SET") and f"on {SLICES} images ({SLICES - 1} here)" in x
        for x in no_ct
    ), no_ct
    assert not any("missing here" in x for x in no_ct if x.startswith("RT PLAN"))


@needs("dcmdump")
def test_ls_agrees_with_dcmdump(course_dir: Path, tmp_path: Path) -> None:
    rts = _rt_leaves(_ls(course_dir))
    names = [b["name"] for b in rts["RT PLAN"]["beams"]]  # type: ignore[index]
    assert names == _dcmdump(course_dir / "RP.photon.dcm", "300a,00c2")
    rois = [r["name"] for r in rts["RT STRUCTURE SET"]["rois"]]  # type: ignore[index]
    assert rois == _dcmdump(course_dir / "RS.dcm", "3006,0026")


@needs("dcmdump")
def test_graph_finds_every_reference_dcmdump_sees(course_dir: Path) -> None:
    """Every Referenced SOP Instance UID in each RT file is an edge of the graph, and back.

    The only UIDs left out are the RT Referenced Study Sequence's study references
    (Detached Study Management), which name a study, not an instance.
    """
    files = sorted(course_dir.iterdir())
    headers = [(p.name, read_header(p, keywords=rt.KEYWORDS).keys) for p in files]
    graph = rt.build_graph(headers)
    study = str(make_course(SEED, n_slices=SLICES, matrix=8).study_instance_uid)
    for node in graph.rt_nodes():
        seen = set(_dcmdump(course_dir / node.where, "0008,1155")) - {study}
        ours = {r.uid for r in node.refs if not r.is_series}
        assert seen == ours, node.where


def _medium_uids(medium: Path) -> set[str]:
    with open_medium(medium) as m:
        snap = take_snapshot(m)
    return {f.header.sop_instance_uid for f in snap.files if f.header is not None}


def test_with_references_pulls_structure_set_images_and_dose(
    course_dir: Path, tmp_path: Path
) -> None:
    course = make_course(SEED, n_slices=SLICES, matrix=8)
    want = {str(ds.SOPInstanceUID) for ds in course.datasets if kind_of(ds) in ("CT", "RTSTRUCT")}
    want |= {str(course.one(k).SOPInstanceUID) for k in ("RTPLAN", "RTDOSE")}
    plan = course_dir / "RP.photon.dcm"  # named, and also inside the pool folder
    out = tmp_path / "plan.iso"
    run = CliRunner().invoke(
        main,
        ["build", str(plan), str(course_dir), "--with-references", "--strict", "-o", str(out)],
        catch_exceptions=False,
    )
    assert run.exit_code == 0, run.output
    assert _medium_uids(out) == want
    assert _r(check_medium(out, CD).findings) == Counter()


def test_with_references_names_what_the_pools_lack(course_dir: Path, tmp_path: Path) -> None:
    pool = _without(course_dir, tmp_path, "RS.dcm")
    result = build_medium(
        [course_dir / "RP.ion.dcm", pool], tmp_path / "m", CD, fmt="dir", with_references=True
    )
    assert result.instances == 1  # the structure set is not there, so neither are its images
    assert _r(result.findings) == Counter({"R501": 1})


def test_with_references_needs_a_named_file(course_dir: Path, tmp_path: Path) -> None:
    run = CliRunner().invoke(
        main,
        ["build", str(course_dir), "--with-references", "-o", str(tmp_path / "x.iso")],
        catch_exceptions=False,
    )
    assert run.exit_code == 2
    assert "--with-references" in run.stderr and "name at least one file" in run.stderr


class _Spy(io.BytesIO):
    """A stream that remembers the furthest byte anyone read."""

    furthest = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return data


def test_headers_never_read_the_dose_grid(tmp_path: Path) -> None:
    write_course(tmp_path, SEED, n_slices=24, matrix=128)  # a dose grid of 96 KiB
    data = (tmp_path / "RD.dcm").read_bytes()
    pixel_tag = data.rfind(b"\xe0\x7f\x10\x00OW")  # (7FE0,0010) Pixel Data, explicit VR
    assert pixel_tag > 0 and len(data) > headerframe.FIRST_READ + 16 * 1024
    spy = _Spy(data)
    header = read_header_stream(spy, len(data), where="RD", keywords=rt.KEYWORDS)
    # the header is framed from one read of the file's first 64 KiB: the grid past it is
    # never read (the element's length is checked against the file's size)
    assert spy.furthest <= headerframe.FIRST_READ
    assert "PixelData" not in header.keys
    assert header.keys.DoseSummationType == "PLAN"
    with mock.patch.object(part10, "frame", lambda *a, **k: None):  # pydicom reads it alone:
        spy = _Spy(data)
        read_header_stream(spy, len(data), where="RD", keywords=rt.KEYWORDS)
    assert spy.furthest <= pixel_tag + 12  # at most the element's tag, VR and length


def test_truncated_dose_grid_still_lists_and_checks(course_dir: Path, tmp_path: Path) -> None:
    """A dose whose grid is cut off: pixel data is never loaded, so nothing notices."""
    export = _without(course_dir, tmp_path, "RD.dcm")
    data = (course_dir / "RD.dcm").read_bytes()
    (export / "RD.dcm").write_bytes(data[: data.rfind(b"\xe0\x7f\x10\x00OW") + 200])
    with open_medium(export) as m:
        graph = snapshot_graph(take_snapshot(m))
    dose = next(n for n in graph.rt_nodes() if n.kind == "RT DOSE")
    assert rt.summarise(dose, graph)["summation_type"] == "PLAN"  # type: ignore[index]
    assert _r(check_medium(export, CD).findings) == Counter()


def test_pydicom_rt_files(pydicom_rt: Path, tmp_path: Path) -> None:
    """pydicom's plan, dose and structure set come from three unrelated exports."""
    result = build_medium([pydicom_rt], tmp_path / "p.iso", CD)
    assert result.output is not None
    by_code = {f.code: f for f in result.findings if f.code.startswith("R")}
    assert set(by_code) == {"R501", "R502", "R503", "R504"}
    assert "1.2.333.444.55.6.7777.88888" in by_code["R501"].message  # plan -> structure set
    assert "1.2.123.456.78.9.0123.4567.89012345678901" in by_code["R503"].message  # dose -> plan
    assert by_code["R502"].path.endswith("rtstruct.dcm")  # its CT series is not in the wheel
    assert (
        "PREDECESSOR" not in by_code["R504"].message and "related plan" in by_code["R504"].message
    )
    assert _r(check_medium(tmp_path / "p.iso", CD).findings) == _r(result.findings)
    rts = _rt_leaves(_ls(tmp_path / "p.iso"))
    assert rts["RT PLAN"]["label"] == "Plan1"
    assert rts["RT PLAN"]["fractions_planned"] == 30
    assert rts["RT DOSE"]["summation_type"] == "BEAM"
    assert rts["RT STRUCTURE SET"]["number_of_rois"] == 3
