"""R rules: RT referential integrity of a medium or a build (IEC TR 62266; PS3.3 C.8.8).

Each rule is a pure function over the reference graph that :mod:`mediakit.rt`
builds from headers. ``check`` runs them over a :class:`Snapshot`
(:func:`rt_rules`); ``build`` runs the same rules over the headers it
collected, before writing (:func:`rt_findings`). What each rule means, and
where the standard was interpreted, is in the README ("RT references").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final

from pydicom.dataset import Dataset
from pydicom.uid import UID

from mediakit.check.snapshot import Snapshot
from mediakit.findings import Finding, finding
from mediakit.profiles import Profile
from mediakit.rt import PLANS, RECORDS, REGISTRATIONS, Graph, Node, Ref, beam_items, build_graph
from mediakit.rt import values as v
from mediakit.rt.table import DoseSummation, rt_table

# What a missing target of each role is (anything else: R504, context only).
_MISSING: Final = {"structure set": "R501", "image": "R502", "image series": "R502", "plan": "R503"}
# Kinds whose meaning depends on other objects: these can be orphans (R509).
_DEPENDENT: Final = frozenset({"RT STRUCTURE SET", "RT DOSE", *PLANS, *RECORDS, *REGISTRATIONS})
_LABELS: Final = ("RTPlanLabel", "StructureSetLabel", "ContentLabel", "RTImageLabel")
_SHOWN: Final = 3  # UIDs named in one finding before "and N more"


def _class_name(sop_class_uid: str) -> str:
    """'RT Structure Set' for its UID; the UID itself when pydicom does not know it."""
    if not sop_class_uid:
        return "instance"
    name = UID(sop_class_uid).name
    return name.removesuffix(" Storage") if name != sop_class_uid else sop_class_uid


def _what(node: Node) -> str:
    """How a finding names an object: its kind and label, e.g. RT PLAN 'MKTEST_PHOTON'."""
    label = next((t for kw in _LABELS if (t := v.text(node.ds, kw))), "")
    return f"{node.kind or _class_name(node.sop_class_uid)} {label!r}" if label else str(node.kind)


def _uids(uids: Sequence[str]) -> str:
    shown = ", ".join(uids[:_SHOWN])
    return shown + (f" and {len(uids) - _SHOWN} more" if len(uids) > _SHOWN else "")


def r501_r504_missing(graph: Graph) -> Iterator[Finding]:
    """Every referenced object is on the medium (R501-R504), images grouped by series."""
    for node in graph.rt_nodes():
        listed = {r.series for r in node.refs if r.role == "image" and r.series}
        images: dict[tuple[str, str, str], list[Ref]] = defaultdict(list)
        for ref in node.refs:
            if ref.role == "image":
                images[(ref.attribute, ref.series, ref.sop_class_uid)].append(ref)
            elif graph.present(ref):
                continue
            elif ref.is_series:
                if ref.uid not in listed:  # else its images are reported one by one
                    yield finding(
                        "R502",
                        node.where,
                        f"series {ref.uid}: no instance of it here (from {ref.attribute})",
                    )
            else:
                yield finding(
                    _MISSING.get(ref.role, "R504"),
                    node.where,
                    f"{_class_name(ref.sop_class_uid)} {ref.uid} ({ref.role} of {_what(node)}, "
                    f"from {ref.attribute})",
                )
        for (attribute, series, cls), refs in sorted(images.items()):
            gone = [r.uid for r in refs if not graph.present(r)]
            if gone:
                of_series = f" of series {series}" if series else ""
                yield finding(
                    "R502",
                    node.where,
                    f"{len(gone)} of {len(refs)} {_class_name(cls)} instances{of_series} "
                    f"(from {attribute}): {_uids(gone)}",
                )


def _frames_listed(ss: Node) -> set[str]:
    return {
        f for item in v.items(ss.ds, "ReferencedFrameOfReferenceSequence")
        if (f := v.text(item, "FrameOfReferenceUID"))
    }  # fmt: skip


def r505_frames_of_reference(graph: Graph) -> Iterator[Finding]:
    """Plan, structure set, images, dose and registrations agree on the Frame of Reference.

    A plan's frame is one its structure set is defined in; each image a
    structure set or registration lists under a frame is in that frame; each
    ROI's frame is one of the structure set's; a dose is in its plan's frame
    (or, when the plan names none, in a frame of the plan's structure set) and
    in a frame of the structure set its DVHs use (PS3.3 C.7.4.1, C.8.8.5, C.20.2).
    """
    for node in graph.rt_nodes():
        yield from _image_frames(graph, node)
        if node.kind == "RT STRUCTURE SET":
            listed = _frames_listed(node)
            for roi in v.items(node.ds, "StructureSetROISequence"):
                frame = v.text(roi, "ReferencedFrameOfReferenceUID")
                if listed and frame and frame not in listed:
                    yield finding(
                        "R505",
                        node.where,
                        f"ROI {v.text(roi, 'ROINumber')} {v.text(roi, 'ROIName')!r} is in "
                        f"{frame}, not in a frame the structure set lists "
                        f"({_uids(sorted(listed))})",
                    )
        for ref in node.refs:
            target = graph.target(ref)
            if target is None or not node.frame:
                continue
            expected: frozenset[str] = frozenset()
            if ref.role == "structure set" and (node.kind in PLANS or node.kind == "RT DOSE"):
                expected = target.frames
            elif ref.role == "plan" and node.kind == "RT DOSE":
                expected = (
                    frozenset({target.frame}) if target.frame else _plan_frames(graph, target)
                )
            if expected and node.frame not in expected:
                yield finding(
                    "R505",
                    node.where,
                    f"{_what(node)} is in {node.frame}; its {ref.role} {_what(target)} "
                    f"({target.where}) is in {_uids(sorted(expected))}",
                )


def _plan_frames(graph: Graph, plan: Node) -> frozenset[str]:
    """Frames of the structure set(s) a plan references, when they are here."""
    found: set[str] = set()
    for ref in plan.refs:
        if ref.role == "structure set" and (ss := graph.target(ref)) is not None:
            found |= ss.frames
    return frozenset(found)


def _image_frames(graph: Graph, node: Node) -> Iterator[Finding]:
    wrong: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ref in node.refs:
        image = graph.target(ref) if ref.role == "image" and ref.frame else None
        if image is not None and image.frame and image.frame != ref.frame:
            wrong[(ref.frame, image.frame)].append(image.where)
    for (listed, actual), where in sorted(wrong.items()):
        yield finding(
            "R505",
            node.where,
            f"{len(where)} image(s) listed under Frame of Reference {listed} are in {actual}: "
            f"{_uids(sorted(where))}",
        )


def _numbers(items: Iterable[Dataset], kw: str) -> set[int]:
    return {n for item in items if (n := v.integer(item, kw)) is not None}


def r506_dose_summation(graph: Graph) -> Iterator[Finding]:
    """Dose Summation Type fits what the dose references (PS3.3 C.8.8.3; table in rt_objects).

    What each type calls for is required, and what it does not call for is
    absent (each reference sequence of the module is Type 1C). Beams are those
    of the referenced fraction group, setups those of the plan's fraction group
    (or of the plan when its group lists none), control point ranges within
    their beam.
    """
    rules = rt_table().dose_summation
    for node in graph.rt_nodes():
        if node.kind != "RT DOSE":
            continue
        kind = v.text(node.ds, "DoseSummationType")
        need = rules.get(kind)
        if need is None:
            continue
        for problem in _summation_problems(graph, node.ds, need):
            yield finding("R506", node.where, f"{kind}: {problem}")


def _not_called_for(seq: str) -> str:
    return f"has a {seq}, which this type does not call for"


def _presence(listed: Sequence[Dataset], wanted: bool, seq: str) -> str | None:
    """What is wrong with a sequence this type requires (wanted) or does not call for."""
    if wanted and not listed:
        return f"needs a {seq}"
    if listed and not wanted:
        return _not_called_for(seq)
    return None


def _summation_problems(graph: Graph, ds: Dataset, need: DoseSummation) -> Iterator[str]:
    plans = v.items(ds, "ReferencedRTPlanSequence")
    if need.plans == "one" and len(plans) != 1:
        yield f"needs exactly one Referenced RT Plan Sequence item, has {len(plans)}"
    elif need.plans == "several" and len(plans) < 2:
        yield f"needs two or more referenced plans, has {len(plans)}"
    elif need.plans == "none" and plans:
        yield _not_called_for("Referenced RT Plan Sequence")
    if need.records and not v.items(ds, "ReferencedTreatmentRecordSequence"):
        yield "needs a Referenced Treatment Record Sequence"
    for item in plans if need.plans != "none" else ():
        yield from _plan_item_problems(graph, item, need)


def _plan_item_problems(graph: Graph, plan_item: Dataset, need: DoseSummation) -> Iterator[str]:
    groups = v.items(plan_item, "ReferencedFractionGroupSequence")
    if not need.fraction_group:
        if groups:
            yield _not_called_for("Referenced Fraction Group Sequence")
        return
    if len(groups) != 1:
        yield f"needs one Referenced Fraction Group Sequence item, has {len(groups)}"
        return
    group = groups[0]
    plan = graph.nodes.get(v.text(plan_item, "ReferencedSOPInstanceUID"))
    if plan is not None and plan.kind not in PLANS:
        plan = None  # R511 names a reference to something else
    number = v.integer(group, "ReferencedFractionGroupNumber")
    planned: Dataset | None = None  # the plan's fraction group this dose is of
    if plan is not None:
        planned = next(
            (
                g
                for g in v.items(plan.ds, "FractionGroupSequence")
                if v.integer(g, "FractionGroupNumber") == number
            ),
            None,
        )
        if planned is None:
            yield f"fraction group {number} is not in plan {_what(plan)}"
            return
    yield from _beam_problems(group, need, plan, planned, number)
    yield from _setup_problems(group, need, plan, planned, number)


def _beam_problems(
    group: Dataset,
    need: DoseSummation,
    plan: Node | None,
    planned: Dataset | None,
    number: int | None,
) -> Iterator[str]:
    listed = v.items(group, "ReferencedBeamSequence")
    if problem := _presence(listed, need.beams, "Referenced Beam Sequence"):
        yield problem
    if not (need.beams and listed):
        return
    for item in listed:
        ranges = v.items(item, "ReferencedControlPointSequence")
        beam = v.integer(item, "ReferencedBeamNumber")
        if need.control_points and len(ranges) != 1:
            yield (
                f"beam {beam}: needs one Referenced Control Point Sequence item, has {len(ranges)}"
            )
        elif not need.control_points and ranges:
            yield f"beam {beam}: " + _not_called_for("Referenced Control Point Sequence")
    if plan is None or planned is None:
        return
    beams = {n: b for b in beam_items(plan.ds) if (n := v.integer(b, "BeamNumber")) is not None}
    in_group = _numbers(v.items(planned, "ReferencedBeamSequence"), "ReferencedBeamNumber")
    named = _numbers(listed, "ReferencedBeamNumber")
    yield from _not_in_plan("beam", named, in_group, set(beams), number, plan)
    for item in listed if need.control_points else ():
        yield from _control_point_problems(item, beams)


def _control_point_problems(item: Dataset, beams: dict[int, Dataset]) -> Iterator[str]:
    """A referenced range of control points lies within its beam (PS3.3 C.8.8.3, C.8.8.14)."""
    beam = v.integer(item, "ReferencedBeamNumber")
    ranges = v.items(item, "ReferencedControlPointSequence")
    count = v.integer(beams[beam], "NumberOfControlPoints") if beam in beams else None
    if count is None or len(ranges) != 1:
        return
    for kw in ("ReferencedStartControlPointIndex", "ReferencedStopControlPointIndex"):
        index = v.integer(ranges[0], kw)
        if index is None:
            yield f"beam {beam}: no {kw}"
        elif not 0 <= index < count:
            yield f"beam {beam}: {kw} {index}, the beam has control points 0-{count - 1}"


def _setup_problems(
    group: Dataset,
    need: DoseSummation,
    plan: Node | None,
    planned: Dataset | None,
    number: int | None,
) -> Iterator[str]:
    seq, kw = "ReferencedBrachyApplicationSetupSequence", "ReferencedBrachyApplicationSetupNumber"
    listed = v.items(group, seq)
    if problem := _presence(listed, need.setups, "Referenced Brachy Application Setup Sequence"):
        yield problem
    if not (need.setups and listed):
        return
    if plan is None or planned is None:
        return
    in_group = _numbers(v.items(planned, seq), kw)
    setups = _numbers(v.items(plan.ds, "ApplicationSetupSequence"), "ApplicationSetupNumber")
    named = _numbers(listed, kw)
    yield from _not_in_plan("application setup", named, in_group, setups, number, plan)


def _not_in_plan(
    noun: str, named: set[int], in_group: set[int], in_plan: set[int], group: int | None, plan: Node
) -> Iterator[str]:
    """Numbers a dose names that are not of its fraction group (of the plan if it lists none)."""
    known, scope = (in_group, f"fraction group {group} of ") if in_group else (in_plan, "")
    missing = sorted(named - known)
    if missing:
        yield f"{noun}(s) {', '.join(map(str, missing))} not in {scope}plan {_what(plan)}"


def r507_one_structure_set(graph: Graph) -> Iterator[Finding]:
    """A plan references exactly one structure set: only a single item (PS3.3 C.8.8.9)."""
    for node in graph.rt_nodes():
        uids = sorted({r.uid for r in node.refs if r.role == "structure set"})
        if node.kind in PLANS and len(uids) > 1:
            yield finding("R507", node.where, f"{_what(node)}: {_uids(uids)}")


def _contoured(ss: Node) -> set[str]:
    """Series a structure set was drawn on: listed series and the series of listed images."""
    return {r.series for r in ss.refs if r.role in ("image", "image series") and r.series}


def r508_competing_structure_sets(graph: Graph) -> Iterator[Finding]:
    """A structure set no plan or dose uses, contouring the images a used one contours."""
    used: dict[str, Node] = {}  # structure set UID -> a plan (or dose) that uses it
    for node in graph.rt_nodes():
        for ref in node.refs:
            if ref.role == "structure set" and ref.uid in graph.nodes:
                used.setdefault(ref.uid, node)
    sets = [n for n in graph.rt_nodes() if n.kind == "RT STRUCTURE SET"]
    for ss in sets:
        if ss.uid in used:
            continue
        mine = _contoured(ss)
        for other in sets:
            if other.uid in used and mine & _contoured(other):
                user = used[other.uid]
                yield finding(
                    "R508",
                    ss.where,
                    f"{_what(ss)} contours series {_uids(sorted(mine & _contoured(other)))} "
                    f"like {_what(other)} ({other.where}), which {_what(user)} uses",
                )
                break


def r513_plan_without_structure_set(graph: Graph) -> Iterator[Finding]:
    """A plan of PATIENT geometry names its structure set (PS3.3 C.8.8.9, Type 1C).

    Referenced Structure Set Sequence is required when RT Plan Geometry is
    PATIENT: without it the receiving clinic cannot tell which contours and
    images the plan was made on, whatever else is on the medium.
    """
    for node in graph.rt_nodes():
        if node.kind not in PLANS or v.text(node.ds, "RTPlanGeometry") != "PATIENT":
            continue
        if not any(r.role == "structure set" for r in node.refs):
            yield finding(
                "R513",
                node.where,
                f"{_what(node)}: RT Plan Geometry is PATIENT, but the plan has no "
                "Referenced Structure Set Sequence item naming one",
            )


def r509_orphans(graph: Graph) -> Iterator[Finding]:
    """An RT object that references nothing, that nothing references, sharing no frame.

    Plans whose RT Plan Geometry is TREATMENT_DEVICE stand alone by definition
    (PS3.3 C.8.8.9) and RT Images are images in their own right: neither is an orphan.
    """
    frames: dict[str, int] = defaultdict(int)
    for node in graph.nodes.values():
        for frame in node.frames:
            frames[frame] += 1
    for node in graph.rt_nodes():
        if node.kind not in _DEPENDENT or node.refs or graph.referrers.get(node.uid):
            continue
        if node.kind in PLANS and v.text(node.ds, "RTPlanGeometry") == "TREATMENT_DEVICE":
            continue
        if any(frames[f] > 1 for f in node.frames):
            continue
        yield finding(
            "R509",
            node.where,
            f"{_what(node)} references nothing, nothing references it, and no other object "
            "here shares its Frame of Reference",
        )


def r510_r511_targets(graph: Graph) -> Iterator[Finding]:
    """The target of a reference is of this patient (R510) and of the class named (R511)."""
    for node in graph.rt_nodes():
        patients: dict[tuple[str, str], list[str]] = defaultdict(list)
        classes: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for ref in node.refs:
            target = graph.target(ref)
            if target is None:
                continue
            if node.patient_id and target.patient_id and node.patient_id != target.patient_id:
                patients[(ref.role, target.patient_id)].append(target.uid)
            wrong_kind = ref.expects and target.kind not in ref.expects
            if (ref.sop_class_uid and ref.sop_class_uid != target.sop_class_uid) or wrong_kind:
                classes[(ref.role, ref.sop_class_uid, target.sop_class_uid)].append(target.uid)
        for (role, patient), uids in sorted(patients.items()):
            yield finding(
                "R510",
                node.where,
                f"{_what(node)} of patient {node.patient_id!r} references {role} of patient "
                f"{patient!r}: {_uids(uids)}",
            )
        for (role, written, actual), uids in sorted(classes.items()):
            yield finding(
                "R511",
                node.where,
                f"{role} named as {_class_name(written)} is {_class_name(actual)}: {_uids(uids)}",
            )


def r512_beams_in_plan(graph: Graph) -> Iterator[Finding]:
    """Beam, fraction group and setup numbers an RT Image or record names exist in the plan."""
    for node in graph.rt_nodes():
        if node.kind != "RT IMAGE" and node.kind not in RECORDS:
            continue
        for ref in node.refs:
            plan = graph.target(ref)
            if ref.role != "plan" or plan is None or plan.kind not in PLANS:
                continue
            for noun, wanted, known in _numbered(node, plan):
                missing = sorted(wanted - known)
                if missing:
                    yield finding(
                        "R512",
                        node.where,
                        f"{noun} {', '.join(map(str, missing))} not in {_what(plan)} "
                        f"({plan.where})",
                    )


def _numbered(node: Node, plan: Node) -> Iterator[tuple[str, set[int], set[int]]]:
    """(what, numbers the object names, numbers the plan has), for each kind of number."""
    ds = node.ds
    groups = _numbers(v.items(plan.ds, "FractionGroupSequence"), "FractionGroupNumber")
    yield "fraction group", _numbers([ds], "ReferencedFractionGroupNumber"), groups
    beams = _numbers(beam_items(plan.ds), "BeamNumber")
    setups = _numbers(v.items(plan.ds, "ApplicationSetupSequence"), "ApplicationSetupNumber")
    if node.kind == "RT IMAGE":
        yield "beam", _numbers([ds], "ReferencedBeamNumber"), beams
        return
    for seq in ("TreatmentSessionBeamSequence", "TreatmentSessionIonBeamSequence"):
        yield "beam", _numbers(v.items(ds, seq), "ReferencedBeamNumber"), beams
    session = v.items(ds, "TreatmentSessionApplicationSetupSequence")
    yield "application setup", _numbers(session, "ReferencedBrachyApplicationSetupNumber"), setups


RULES: Final[tuple[Callable[[Graph], Iterator[Finding]], ...]] = (
    r501_r504_missing,
    r505_frames_of_reference,
    r506_dose_summation,
    r507_one_structure_set,
    r508_competing_structure_sets,
    r509_orphans,
    r510_r511_targets,
    r512_beams_in_plan,
    r513_plan_without_structure_set,
)


def graph_findings(graph: Graph) -> tuple[Finding, ...]:
    """Every R rule over one graph."""
    return tuple(f for rule in RULES for f in rule(graph))


def rt_findings(headers: Iterable[tuple[str, Dataset]]) -> tuple[Finding, ...]:
    """The R rules over ``(where, header)`` pairs: what ``build`` runs before writing."""
    return graph_findings(build_graph(headers))


def snapshot_graph(snap: Snapshot) -> Graph:
    """The reference graph of every DICOM file on a medium (by its name on the medium).

    Built once per snapshot: the runner may check one snapshot against several profiles.
    """
    graph = snap.derived.get("rt_graph")
    if not isinstance(graph, Graph):
        graph = build_graph((f.file.raw, f.header.keys) for f in snap.files if f.header is not None)
        snap.derived["rt_graph"] = graph
    return graph


def rt_rules(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """R501-R513 over a medium (the runner's entry in ``CHECKS``)."""
    yield from graph_findings(snapshot_graph(snap))
