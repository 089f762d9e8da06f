"""The RT reference graph and the R rules, on the synthetic course held in memory.

Each test breaks one thing a physicist would care about in an otherwise complete
course and expects exactly the R code that names it; the complete course has none.
"""

from __future__ import annotations

import copy
import re
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from fixtures.rtcourse import SOP_CLASSES, Course, kind_of, make_course
from mediakit import rt
from mediakit.check.rt import graph_findings
from mediakit.findings import CODES, Finding, Severity
from tests.conftest import needs

Edit = Callable[[dict[str, Dataset], list[Dataset]], None]


def _course() -> tuple[Course, dict[str, Dataset], list[Dataset]]:
    course = make_course(7, n_slices=4, matrix=8)
    datasets = [copy.deepcopy(ds) for ds in course.datasets]
    one = {kind_of(ds): ds for ds in datasets if kind_of(ds) != "CT"}
    return course, one, datasets


def _findings(datasets: list[Dataset]) -> tuple[Finding, ...]:
    return graph_findings(
        rt.build_graph((f"{kind_of(ds)}#{n}", ds) for n, ds in enumerate(datasets))
    )


def _codes(found: tuple[Finding, ...]) -> Counter[str]:
    return Counter(f.code for f in found)


def _ref(kind: str, uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = SOP_CLASSES[kind]
    item.ReferencedSOPInstanceUID = uid
    return item


def test_complete_course_has_no_r_findings() -> None:
    _, _, datasets = _course()
    assert _findings(datasets) == ()


def test_graph_follows_every_link_of_the_course() -> None:
    course, one, datasets = _course()
    graph = rt.build_graph((kind_of(ds), ds) for ds in datasets)
    uid = {k: str(ds.SOPInstanceUID) for k, ds in one.items()}
    ct = {str(ds.SOPInstanceUID) for ds in course.by_kind["CT"]}

    def targets(kind: str, role: str) -> set[str]:
        return {r.uid for r in graph.nodes[uid[kind]].refs if r.role == role}

    assert targets("RTPLAN", "structure set") == {uid["RTSTRUCT"]}
    assert targets("RTIONPLAN", "structure set") == {uid["RTSTRUCT"]}
    assert targets("RTSTRUCT", "image") == ct
    assert targets("RTSTRUCT", "image series") == {str(course.by_kind["CT"][0].SeriesInstanceUID)}
    assert targets("RTDOSE", "plan") == {uid["RTPLAN"]}
    assert targets("RTRECORD", "plan") == {uid["RTPLAN"]}
    assert targets("RTIMAGE", "plan") == {uid["RTPLAN"]}
    assert targets("REG", "image") == ct
    # the registration joins the planning CT's frame and the (absent) CBCT's
    assert course.frame_of_reference_uid in graph.nodes[uid["REG"]].frames
    assert len(graph.nodes[uid["REG"]].frames) == 2
    # contour images are listed under the structure set's frame of reference
    assert {r.frame for r in graph.nodes[uid["RTSTRUCT"]].refs} == {course.frame_of_reference_uid}


def _plan_frame(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTPLAN"].FrameOfReferenceUID = generate_uid()


def _ct_frame(_: dict[str, Dataset], datasets: list[Dataset]) -> None:
    next(ds for ds in datasets if kind_of(ds) == "CT").FrameOfReferenceUID = generate_uid()


def _dose_frame(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTDOSE"].FrameOfReferenceUID = generate_uid()


def _roi_frame(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTSTRUCT"].StructureSetROISequence[2].ReferencedFrameOfReferenceUID = generate_uid()


def _dose_beam_without_group(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTDOSE"].DoseSummationType = "BEAM"


def _dose_fraction_not_in_plan(one: dict[str, Dataset], _: list[Dataset]) -> None:
    group = Dataset()
    group.ReferencedFractionGroupNumber = 9
    one["RTDOSE"].DoseSummationType = "FRACTION"
    one["RTDOSE"].ReferencedRTPlanSequence[0].ReferencedFractionGroupSequence = [group]


def _dose_beam_not_in_plan(one: dict[str, Dataset], _: list[Dataset]) -> None:
    beam = Dataset()
    beam.ReferencedBeamNumber = 9
    group = Dataset()
    group.ReferencedFractionGroupNumber = 1
    group.ReferencedBeamSequence = [beam]
    one["RTDOSE"].DoseSummationType = "BEAM"
    one["RTDOSE"].ReferencedRTPlanSequence[0].ReferencedFractionGroupSequence = [group]


def _multi_plan_with_one(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTDOSE"].DoseSummationType = "MULTI_PLAN"


def _plan_dose_with_two_plans(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTDOSE"].ReferencedRTPlanSequence.append(
        _ref("RTIONPLAN", str(one["RTIONPLAN"].SOPInstanceUID))
    )


def _two_structure_sets(one: dict[str, Dataset], datasets: list[Dataset]) -> None:
    second = copy.deepcopy(one["RTSTRUCT"])
    second.SOPInstanceUID = generate_uid()
    datasets.append(second)
    one["RTPLAN"].ReferencedStructureSetSequence.append(
        _ref("RTSTRUCT", str(second.SOPInstanceUID))
    )


def _competing_structure_set(one: dict[str, Dataset], datasets: list[Dataset]) -> None:
    second = copy.deepcopy(one["RTSTRUCT"])
    second.SOPInstanceUID = generate_uid()
    second.StructureSetLabel = "OLD_RS"
    datasets.append(second)


def _orphan_structure_set(one: dict[str, Dataset], datasets: list[Dataset]) -> None:
    lone = Dataset()
    lone.SOPClassUID = SOP_CLASSES["RTSTRUCT"]
    lone.SOPInstanceUID = generate_uid()
    lone.PatientID = one["RTPLAN"].PatientID
    lone.StructureSetLabel = "ATLAS"
    lone.FrameOfReferenceUID = generate_uid()
    datasets.append(lone)


def _other_patient(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTDOSE"].PatientID = "SOMEONE_ELSE"


def _wrong_class(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTRECORD"].ReferencedRTPlanSequence[0].ReferencedSOPClassUID = SOP_CLASSES["RTIONPLAN"]


def _image_beam(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTIMAGE"].ReferencedBeamNumber = 9


def _record_fraction_group(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTRECORD"].ReferencedFractionGroupNumber = 2


def _predecessor(one: dict[str, Dataset], _: list[Dataset]) -> None:
    item = _ref("RTPLAN", generate_uid())
    item.RTPlanRelationship = "PREDECESSOR"
    one["RTPLAN"].ReferencedRTPlanSequence = [item]


def _plan_dose_missing(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTPLAN"].ReferencedDoseSequence = [_ref("RTDOSE", generate_uid())]


def _dose_refs(
    one: dict[str, Dataset],
    kind: str,
    *,
    group: int | None = 1,
    beams: tuple[int, ...] = (),
    control_points: tuple[int, int] | None = None,
) -> None:
    """Make the course's dose of Dose Summation Type ``kind``, naming group, beams, ranges."""
    dose = one["RTDOSE"]
    dose.DoseSummationType = kind
    item = dose.ReferencedRTPlanSequence[0]
    if group is None:
        return
    fg = Dataset()
    fg.ReferencedFractionGroupNumber = group
    if beams:
        fg.ReferencedBeamSequence = []
        for number in beams:
            beam = Dataset()
            beam.ReferencedBeamNumber = number
            if control_points is not None:
                cp = Dataset()
                cp.ReferencedStartControlPointIndex, cp.ReferencedStopControlPointIndex = (
                    control_points
                )
                beam.ReferencedControlPointSequence = [cp]
            fg.ReferencedBeamSequence.append(beam)
    item.ReferencedFractionGroupSequence = [fg]


def _two_fraction_groups(one: dict[str, Dataset]) -> None:
    """The photon plan in two fraction groups: beams 1-2 in group 1, beams 3-4 in group 2."""
    plan = one["RTPLAN"]
    first = plan.FractionGroupSequence[0]
    second = copy.deepcopy(first)
    second.FractionGroupNumber = 2
    first.ReferencedBeamSequence = first.ReferencedBeamSequence[:2]
    second.ReferencedBeamSequence = second.ReferencedBeamSequence[2:]
    first.NumberOfBeams = second.NumberOfBeams = 2
    plan.FractionGroupSequence.append(second)


def _beam_of_other_group(one: dict[str, Dataset], _: list[Dataset]) -> None:
    _two_fraction_groups(one)
    _dose_refs(one, "BEAM", beams=(3,))  # beam 3 is in the plan, but in fraction group 2


def _control_point_without_range(one: dict[str, Dataset], _: list[Dataset]) -> None:
    _dose_refs(one, "CONTROL_POINT", beams=(1,))


def _control_point_out_of_beam(one: dict[str, Dataset], _: list[Dataset]) -> None:
    _dose_refs(one, "CONTROL_POINT", beams=(1,), control_points=(0, 5))  # beam 1 has 0-1


def _plan_dose_naming_a_group(one: dict[str, Dataset], _: list[Dataset]) -> None:
    _dose_refs(one, "PLAN")


def _fraction_dose_naming_beams(one: dict[str, Dataset], _: list[Dataset]) -> None:
    _dose_refs(one, "FRACTION", beams=(1,))


def _beam_dose_naming_control_points(one: dict[str, Dataset], _: list[Dataset]) -> None:
    _dose_refs(one, "BEAM", beams=(1,), control_points=(0, 1))


def _record_dose_naming_a_plan(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTDOSE"].DoseSummationType = "RECORD"
    one["RTDOSE"].ReferencedTreatmentRecordSequence = [
        _ref("RTRECORD", str(one["RTRECORD"].SOPInstanceUID))
    ]


def _record_dose_without_records(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTDOSE"].DoseSummationType = "RECORD"
    del one["RTDOSE"].ReferencedRTPlanSequence


def _brachy_dose_on_a_photon_plan(one: dict[str, Dataset], _: list[Dataset]) -> None:
    _dose_refs(one, "BRACHY")


def _patient_plan_without_structure_set(one: dict[str, Dataset], _: list[Dataset]) -> None:
    del one["RTPLAN"].ReferencedStructureSetSequence


def _dose_dvh_structure_set_missing(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTDOSE"].ReferencedStructureSetSequence = [_ref("RTSTRUCT", generate_uid())]


def _record_session_beam(one: dict[str, Dataset], _: list[Dataset]) -> None:
    one["RTRECORD"].TreatmentSessionBeamSequence[0].ReferencedBeamNumber = 9


BROKEN: dict[str, tuple[Edit, str, dict[str, int]]] = {
    "plan frame of reference": (_plan_frame, "", {"R505": 2}),  # plan vs RS, dose vs plan
    "one CT slice in another frame": (_ct_frame, "", {"R505": 2}),  # structure set, registration
    "dose frame of reference": (_dose_frame, "RTDOSE", {"R505": 1}),
    "ROI in a frame the structure set does not list": (_roi_frame, "RTSTRUCT", {"R505": 1}),
    "BEAM dose without fraction group": (_dose_beam_without_group, "RTDOSE", {"R506": 1}),
    "fraction group not in plan": (_dose_fraction_not_in_plan, "RTDOSE", {"R506": 1}),
    "beam not in plan": (_dose_beam_not_in_plan, "RTDOSE", {"R506": 1}),
    "MULTI_PLAN with one plan": (_multi_plan_with_one, "RTDOSE", {"R506": 1}),
    "PLAN dose naming two plans": (_plan_dose_with_two_plans, "RTDOSE", {"R506": 1}),
    "plan naming two structure sets": (_two_structure_sets, "RTPLAN", {"R507": 1}),
    "structure set no plan uses": (_competing_structure_set, "", {"R508": 1}),
    "orphan structure set": (_orphan_structure_set, "", {"R509": 1}),
    "dose of another patient": (_other_patient, "RTDOSE", {"R510": 1}),
    "record names the plan as an ion plan": (_wrong_class, "RTRECORD", {"R511": 1}),
    "RT Image beam not in plan": (_image_beam, "RTIMAGE", {"R512": 1}),
    "record fraction group not in plan": (_record_fraction_group, "RTRECORD", {"R512": 1}),
    "predecessor plan not here": (_predecessor, "RTPLAN", {"R504": 1}),
    "plan's dose not here": (_plan_dose_missing, "RTPLAN", {"R504": 1}),
    "BEAM dose naming a beam of another fraction group": (
        _beam_of_other_group,
        "RTDOSE",
        {"R506": 1},
    ),
    "CONTROL_POINT dose without a control point range": (
        _control_point_without_range,
        "RTDOSE",
        {"R506": 1},
    ),
    "CONTROL_POINT range outside its beam": (_control_point_out_of_beam, "RTDOSE", {"R506": 1}),
    "PLAN dose naming a fraction group": (_plan_dose_naming_a_group, "RTDOSE", {"R506": 1}),
    "FRACTION dose naming beams": (_fraction_dose_naming_beams, "RTDOSE", {"R506": 1}),
    "BEAM dose naming control points": (_beam_dose_naming_control_points, "RTDOSE", {"R506": 1}),
    "RECORD dose naming a plan": (_record_dose_naming_a_plan, "RTDOSE", {"R506": 1}),
    "RECORD dose naming no record": (_record_dose_without_records, "RTDOSE", {"R506": 1}),
    "BRACHY dose on a photon plan": (_brachy_dose_on_a_photon_plan, "RTDOSE", {"R506": 1}),
    "PATIENT plan naming no structure set": (
        _patient_plan_without_structure_set,
        "RTPLAN",
        {"R513": 1},
    ),
    "DVH structure set not here": (_dose_dvh_structure_set_missing, "RTDOSE", {"R501": 1}),
    "record session beam not in plan": (_record_session_beam, "RTRECORD", {"R512": 1}),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_break_gives_exactly_its_finding(case: str) -> None:
    edit, where, expected = BROKEN[case]
    _, one, datasets = _course()
    edit(one, datasets)
    found = _findings(datasets)
    assert _codes(found) == Counter(expected), [f.line() for f in found]
    for f in found:
        assert f.severity is CODES[f.code].severity
        if where:
            assert f.path.startswith(f"{where}#")


# Dose variants whose fault is in the dose alone, so dciodvfy (which sees one file) can judge
# it: whether it reports a Type 1C reference sequence of the RT Dose Module missing or
# present when its condition is unsatisfied must agree with whether R506 is raised.
DOSE_ALONE: dict[str, Edit] = {
    "PLAN as generated": lambda one, _: None,
    "BEAM": lambda one, _: _dose_refs(one, "BEAM", beams=(1, 2)),
    "CONTROL_POINT": lambda one, _: _dose_refs(
        one, "CONTROL_POINT", beams=(1,), control_points=(0, 1)
    ),
    "FRACTION": lambda one, _: _dose_refs(one, "FRACTION"),
    "RECORD": lambda one, _: (
        _record_dose_naming_a_plan(one, _),
        one["RTDOSE"].__delattr__("ReferencedRTPlanSequence"),
    ),
    "BEAM without fraction group": _dose_beam_without_group,
    "CONTROL_POINT without a range": _control_point_without_range,
    "PLAN naming a fraction group": _plan_dose_naming_a_group,
    "FRACTION naming beams": _fraction_dose_naming_beams,
    "BEAM naming control points": _beam_dose_naming_control_points,
    "RECORD naming a plan": _record_dose_naming_a_plan,
    "RECORD naming no record": _record_dose_without_records,
    "BRACHY without setups": _brachy_dose_on_a_photon_plan,
    "MULTI_PLAN with one plan": _multi_plan_with_one,
    "PLAN naming two plans": _plan_dose_with_two_plans,
}
_DOSE_REFS = re.compile(
    r"^Error - .*(Type 1C Conditional Element=<Referenced\w*Sequence> Module=<RTDose>"
    r"|attribute <ReferencedRTPlanSequence>)"
)


@needs("dciodvfy")
@pytest.mark.parametrize("case", list(DOSE_ALONE))
def test_dose_summation_agrees_with_dciodvfy(case: str, tmp_path: Path) -> None:
    _, one, datasets = _course()
    DOSE_ALONE[case](one, datasets)
    dose = one["RTDOSE"]
    del dose.PixelData  # dciodvfy 2022 aborts on 32-bit dose grids; references are what counts
    path = tmp_path / "RD.dcm"
    dose.file_meta = FileMetaDataset()
    dose.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dose.save_as(path, enforce_file_format=True)
    out = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
    theirs = [line for line in out.stderr.splitlines() if _DOSE_REFS.match(line)]
    ours = [f.line() for f in _findings(datasets) if f.code == "R506"]
    assert bool(ours) == bool(theirs), (ours, theirs)


@needs("dciodvfy")
@pytest.mark.parametrize("named", [True, False])
def test_patient_plan_structure_set_agrees_with_dciodvfy(named: bool, tmp_path: Path) -> None:
    _, one, datasets = _course()
    if not named:
        _patient_plan_without_structure_set(one, datasets)
    plan = one["RTPLAN"]
    plan.file_meta = FileMetaDataset()
    plan.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    plan.save_as(tmp_path / "RP.dcm", enforce_file_format=True)
    out = subprocess.run(
        ["dciodvfy", str(tmp_path / "RP.dcm")], capture_output=True, text=True, check=False
    )
    theirs = [x for x in out.stderr.splitlines() if "<ReferencedStructureSetSequence>" in x]
    ours = [f for f in _findings(datasets) if f.code == "R513"]
    assert bool(ours) == bool(theirs) == (not named), (ours, theirs)


def test_frame_mismatch_and_other_patient_are_errors_missing_is_a_warning() -> None:
    assert CODES["R505"].severity is Severity.ERROR
    assert CODES["R510"].severity is Severity.ERROR
    for code in ("R501", "R502", "R503", "R506", "R507", "R508", "R509", "R511", "R512"):
        assert CODES[code].severity is Severity.WARNING
    assert CODES["R504"].severity is Severity.INFO


def test_treatment_device_plan_standing_alone_is_no_orphan() -> None:
    plan = Dataset()
    plan.SOPClassUID = SOP_CLASSES["RTPLAN"]
    plan.SOPInstanceUID = generate_uid()
    plan.RTPlanGeometry = "TREATMENT_DEVICE"
    assert graph_findings(rt.build_graph([("QA", plan)])) == ()
    plan.RTPlanGeometry = "PATIENT"
    assert [f.code for f in graph_findings(rt.build_graph([("QA", plan)]))] == ["R509", "R513"]


def test_structure_set_sharing_a_frame_is_no_orphan() -> None:
    """A structure set that references nothing is still placed by its Frame of Reference."""
    _, one, datasets = _course()
    _orphan_structure_set(one, datasets)
    datasets[-1].FrameOfReferenceUID = one["RTSTRUCT"].FrameOfReferenceUID  # the CT's frame
    assert _findings(datasets) == ()


def test_deformable_registration_references_and_frames() -> None:
    """Deformable Spatial Registration: its images must be here, its frames are joined."""
    course, one, datasets = _course()
    cts = [ds for ds in datasets if kind_of(ds) == "CT"]
    target = generate_uid()  # the frame the planning CT is registered into (a CBCT's)
    item = Dataset()
    item.SourceFrameOfReferenceUID = course.frame_of_reference_uid
    item.ReferencedImageSequence = []
    for ct in cts:
        ref = Dataset()
        ref.ReferencedSOPClassUID = ct.SOPClassUID
        ref.ReferencedSOPInstanceUID = ct.SOPInstanceUID
        item.ReferencedImageSequence.append(ref)
    dreg = Dataset()
    dreg.SOPClassUID = "1.2.840.10008.5.1.4.1.1.66.3"
    dreg.SOPInstanceUID = generate_uid()
    dreg.PatientID = one["RTPLAN"].PatientID
    dreg.FrameOfReferenceUID = target
    dreg.DeformableRegistrationSequence = [item]
    datasets.append(dreg)

    def found() -> tuple[Finding, ...]:
        return graph_findings(rt.build_graph((f"#{n}", ds) for n, ds in enumerate(datasets)))

    graph = rt.build_graph((f"#{n}", ds) for n, ds in enumerate(datasets))
    node = graph.nodes[str(dreg.SOPInstanceUID)]
    assert node.kind == "DEFORMABLE SPATIAL REGISTRATION"
    assert node.frames == {course.frame_of_reference_uid, target}
    assert {r.uid for r in node.refs if r.role == "image"} == {str(ct.SOPInstanceUID) for ct in cts}
    assert found() == ()
    datasets.remove(cts[0])
    # the structure set, the registration and the deformable registration each miss a slice
    missing = found()
    assert _codes(missing) == Counter({"R502": 3}), [f.line() for f in missing]
    assert f"#{len(datasets) - 1}" in {f.path for f in missing}


def test_with_references_pulls_what_a_plan_needs() -> None:
    course, one, datasets = _course()
    graph = rt.build_graph((kind_of(ds), ds) for ds in datasets)
    ct = {str(ds.SOPInstanceUID) for ds in course.by_kind["CT"]}
    uid = {k: str(ds.SOPInstanceUID) for k, ds in one.items()}
    photon = rt.with_references(graph, [uid["RTPLAN"]])
    assert photon == {uid["RTPLAN"], uid["RTSTRUCT"], uid["RTDOSE"], *ct}
    ion = rt.with_references(graph, [uid["RTIONPLAN"]])  # the dose is the photon plan's
    assert ion == {uid["RTIONPLAN"], uid["RTSTRUCT"], *ct}
    record = rt.with_references(graph, [uid["RTRECORD"]])  # record -> plan -> its dose, ...
    assert record == {uid["RTRECORD"], *photon}


def test_with_references_takes_the_whole_series_of_a_referenced_image() -> None:
    course, one, datasets = _course()
    seq = one["RTSTRUCT"].ReferencedFrameOfReferenceSequence[0]
    series = seq.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    del series.ContourImageSequence[1:]  # the structure set lists one slice only
    graph = rt.build_graph((kind_of(ds), ds) for ds in datasets)
    keep = rt.with_references(graph, [str(one["RTSTRUCT"].SOPInstanceUID)])
    assert {str(ds.SOPInstanceUID) for ds in course.by_kind["CT"]} <= keep


def test_hostile_values_do_not_break_the_graph() -> None:
    ds = Dataset()
    ds.SOPClassUID = SOP_CLASSES["RTDOSE"]
    ds.SOPInstanceUID = generate_uid()
    ds.ReferencedRTPlanSequence = [Dataset()]  # an item that names nothing
    ds.DoseSummationType = "PLAN"
    bad = b"not a number"  # ReferencedBeamNumber as read from a hostile file: undecodable
    ds[0x300C0006] = RawDataElement(Tag(0x300C0006), "IS", len(bad), bad, 0, False, True)
    graph = rt.build_graph([("RD", ds)])
    assert graph.nodes[str(ds.SOPInstanceUID)].refs == ()
    assert [f.code for f in graph_findings(graph)] == ["R509"]


def test_summaries_hold_what_the_generator_put_in() -> None:
    course, one, datasets = _course()
    graph = rt.build_graph((kind_of(ds), ds) for ds in datasets)
    plan = rt.summarise(graph.nodes[str(one["RTPLAN"].SOPInstanceUID)], graph)
    assert plan is not None
    assert plan["label"] == one["RTPLAN"].RTPlanLabel
    assert [b["name"] for b in plan["beams"]] == [b.BeamName for b in one["RTPLAN"].BeamSequence]
    group = one["RTPLAN"].FractionGroupSequence[0]
    assert plan["fractions_planned"] == int(group.NumberOfFractionsPlanned)
    assert plan["prescription_dose"] == pytest.approx(
        float(one["RTPLAN"].DoseReferenceSequence[0].TargetPrescriptionDose)
    )
    assert [b["meterset"] for b in plan["beams"]] == [
        pytest.approx(float(r.BeamMeterset)) for r in group.ReferencedBeamSequence
    ]
    assert plan["references"] == [
        {
            "role": "structure set",
            "sop_class_uid": SOP_CLASSES["RTSTRUCT"],
            "uid": one["RTSTRUCT"].SOPInstanceUID,
            "present": True,
        }
    ]
    ss = rt.summarise(graph.nodes[str(one["RTSTRUCT"].SOPInstanceUID)], graph)
    assert ss is not None
    assert [(r["number"], r["name"], r["interpreted_type"]) for r in ss["rois"]] == [
        (1, "BODY", "EXTERNAL"),
        (2, "PTV", "PTV"),
        (3, "SPINAL_CORD", "ORGAN"),
    ]
    assert (ss["referenced_images"], ss["referenced_images_present"]) == (4, 4)
    record = rt.summarise(graph.nodes[str(one["RTRECORD"].SOPInstanceUID)], graph)
    assert record is not None
    assert record["treatment_date"] == one["RTRECORD"].TreatmentDate
    fraction = int(one["RTRECORD"].TreatmentSessionBeamSequence[0].CurrentFractionNumber)
    assert record["fraction_numbers"] == [fraction]
    assert rt.summarise(graph.nodes[str(course.by_kind["CT"][0].SOPInstanceUID)], graph) is None
