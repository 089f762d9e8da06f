"""The RT reference graph and the R rules, on the synthetic course held in memory.

Each test breaks one thing a physicist would care about in an otherwise complete
course and expects exactly the R code that names it; the complete course has none.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import generate_uid

from fixtures.rtcourse import SOP_CLASSES, Course, kind_of, make_course
from mediakit import rt
from mediakit.check.rt import graph_findings
from mediakit.findings import CODES, Finding, Severity

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
    assert [f.code for f in graph_findings(rt.build_graph([("QA", plan)]))] == ["R509"]


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
