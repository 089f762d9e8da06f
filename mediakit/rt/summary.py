"""What a physicist looks for in each RT object, as plain data for ``mediakit ls``.

:func:`summarise` returns a JSON-ready dict (keys documented in the README,
only ever added to): plan label, beams and fractions; structure set ROIs; dose
units and summation; treatment dates and fractions delivered; and, for every
object, what it references and whether that is on the medium. Headers only.
"""

from __future__ import annotations

from typing import Any, Final

from pydicom.dataset import Dataset

from mediakit.rt import values as v
from mediakit.rt.graph import PLANS, RECORDS, REGISTRATIONS, Graph, Node

# Session items of each treatment record kind (RT Beams / Ion Beams / Brachy Session Record).
_SESSION_ITEMS: Final = {
    "RT BEAMS TREATMENT RECORD": "TreatmentSessionBeamSequence",  # C.8.8.21
    "RT ION BEAMS TREATMENT RECORD": "TreatmentSessionIonBeamSequence",  # C.8.8.26
    "RT BRACHY TREATMENT RECORD": "TreatmentSessionApplicationSetupSequence",  # C.8.8.22
}

#: Attributes the summaries read (besides those the reference table needs).
SUMMARY_KEYWORDS: Final = (
    "RTPlanLabel",
    "RTPlanName",
    "RTPlanDate",
    "RTPlanGeometry",
    "PlanIntent",
    "ApprovalStatus",
    "BeamSequence",
    "IonBeamSequence",
    "ApplicationSetupSequence",
    "FractionGroupSequence",
    "DoseReferenceSequence",
    "StructureSetLabel",
    "StructureSetName",
    "StructureSetDate",
    "StructureSetROISequence",
    "RTROIObservationsSequence",
    "DoseUnits",
    "DoseType",
    "DoseSummationType",
    "DoseComment",
    "TreatmentDate",
    "TreatmentTime",
    "NumberOfFractionsPlanned",
    "ReferencedFractionGroupNumber",
    "ReferencedBeamNumber",
    *_SESSION_ITEMS.values(),
    "FractionGroupSummarySequence",
    "FirstTreatmentDate",
    "MostRecentTreatmentDate",
    "CurrentTreatmentStatus",
    "ContentLabel",
    "RTImageLabel",
    "RTImageName",
)


def _or_none(text: str) -> str | None:
    return text or None


def beam_items(ds: Dataset) -> list[Dataset]:
    """The beams of a plan: Beam Sequence, or Ion Beam Sequence for an ion plan."""
    return v.items(ds, "BeamSequence") or v.items(ds, "IonBeamSequence")


def _plan(ds: Dataset) -> dict[str, Any]:
    groups = v.items(ds, "FractionGroupSequence")
    meterset: dict[int, tuple[float | None, float | None]] = {}
    for group in groups:
        for ref in v.items(group, "ReferencedBeamSequence"):
            number = v.integer(ref, "ReferencedBeamNumber")
            if number is not None and number not in meterset:
                meterset[number] = (v.decimal(ref, "BeamMeterset"), v.decimal(ref, "BeamDose"))
    beams = []
    for beam in beam_items(ds):
        number = v.integer(beam, "BeamNumber")
        mu, dose = meterset.get(number, (None, None)) if number is not None else (None, None)
        beams.append(
            {
                "number": number,
                "name": _or_none(v.text(beam, "BeamName")),
                "type": _or_none(v.text(beam, "BeamType")),
                "radiation_type": _or_none(v.text(beam, "RadiationType")),
                "machine": _or_none(v.text(beam, "TreatmentMachineName")),
                "meterset": mu,
                "dose": dose,
            }
        )
    fraction_groups = [
        {
            "number": v.integer(g, "FractionGroupNumber"),
            "fractions_planned": v.integer(g, "NumberOfFractionsPlanned"),
            "number_of_beams": v.integer(g, "NumberOfBeams"),
        }
        for g in groups
    ]
    planned = [
        g["fractions_planned"] for g in fraction_groups if g["fractions_planned"] is not None
    ]
    references = [
        {
            "number": v.integer(d, "DoseReferenceNumber"),
            "type": _or_none(v.text(d, "DoseReferenceType")),
            "structure_type": _or_none(v.text(d, "DoseReferenceStructureType")),
            "description": _or_none(v.text(d, "DoseReferenceDescription")),
            "roi_number": v.integer(d, "ReferencedROINumber"),
            "target_prescription_dose": v.decimal(d, "TargetPrescriptionDose"),
        }
        for d in v.items(ds, "DoseReferenceSequence")
    ]
    prescribed = [
        r["target_prescription_dose"]
        for r in references
        if r["type"] == "TARGET" and r["target_prescription_dose"] is not None
    ]
    if beams:
        n_beams: int | None = len(beams)
    else:
        counts = [g["number_of_beams"] for g in fraction_groups if g["number_of_beams"] is not None]
        n_beams = sum(counts) if counts else None
    return {
        "label": _or_none(v.text(ds, "RTPlanLabel")),
        "name": _or_none(v.text(ds, "RTPlanName")),
        "date": _or_none(v.text(ds, "RTPlanDate")),
        "geometry": _or_none(v.text(ds, "RTPlanGeometry")),
        "intent": _or_none(v.text(ds, "PlanIntent")),
        "approval_status": _or_none(v.text(ds, "ApprovalStatus")),
        "number_of_beams": n_beams,
        "beams": beams,
        "application_setups": len(v.items(ds, "ApplicationSetupSequence")),
        "fractions_planned": sum(planned) if planned else None,
        "fraction_groups": fraction_groups,
        "prescription_dose": max(prescribed) if prescribed else None,
        "dose_references": references,
    }


def _structure_set(ds: Dataset, node: Node) -> dict[str, Any]:
    types = {
        v.integer(o, "ReferencedROINumber"): v.text(o, "RTROIInterpretedType")
        for o in v.items(ds, "RTROIObservationsSequence")
    }
    rois = [
        {
            "number": (number := v.integer(r, "ROINumber")),
            "name": _or_none(v.text(r, "ROIName")),
            "interpreted_type": _or_none(types.get(number, "")),
            "frame_of_reference_uid": _or_none(v.text(r, "ReferencedFrameOfReferenceUID")),
        }
        for r in v.items(ds, "StructureSetROISequence")
    ]
    return {
        "label": _or_none(v.text(ds, "StructureSetLabel")),
        "name": _or_none(v.text(ds, "StructureSetName")),
        "date": _or_none(v.text(ds, "StructureSetDate")),
        "number_of_rois": len(rois),
        "rois": rois,
        "frames_of_reference": sorted(node.frames),
    }


def _dose(ds: Dataset) -> dict[str, Any]:
    return {
        "units": _or_none(v.text(ds, "DoseUnits")),
        "dose_type": _or_none(v.text(ds, "DoseType")),
        "summation_type": _or_none(v.text(ds, "DoseSummationType")),
        "comment": _or_none(v.text(ds, "DoseComment")),
    }


def _record(ds: Dataset, kind: str) -> dict[str, Any]:
    session = v.items(ds, _SESSION_ITEMS.get(kind, ""))
    numbers = sorted(
        {n for s in session if (n := v.integer(s, "CurrentFractionNumber")) is not None}
    )
    groups = v.items(ds, "FractionGroupSummarySequence")  # Treatment Summary, C.8.8.23
    delivered = [n for g in groups if (n := v.integer(g, "NumberOfFractionsDelivered")) is not None]
    planned = v.integer(ds, "NumberOfFractionsPlanned")
    if planned is None:
        per_group = [n for g in groups if (n := v.integer(g, "NumberOfFractionsPlanned"))]
        planned = sum(per_group) if per_group else None
    return {
        "treatment_date": _or_none(v.text(ds, "TreatmentDate"))
        or _or_none(v.text(ds, "MostRecentTreatmentDate")),
        "treatment_time": _or_none(v.text(ds, "TreatmentTime")),
        "fraction_numbers": numbers,
        "fractions_planned": planned,
        "fractions_delivered": sum(delivered) if delivered else None,
        "treatment_items": len(session),
        "status": _or_none(v.text(ds, "CurrentTreatmentStatus")),
    }


def _registration(ds: Dataset, node: Node) -> dict[str, Any]:
    return {
        "label": _or_none(v.text(ds, "ContentLabel")),
        "frames_of_reference": sorted(node.frames),
    }


def _rt_image(ds: Dataset) -> dict[str, Any]:
    return {
        "label": _or_none(v.text(ds, "RTImageLabel")),
        "name": _or_none(v.text(ds, "RTImageName")),
        "referenced_beam_number": v.integer(ds, "ReferencedBeamNumber"),
        "referenced_fraction_group_number": v.integer(ds, "ReferencedFractionGroupNumber"),
    }


def summarise(node: Node, graph: Graph | None = None) -> dict[str, Any] | None:
    """The ``rt`` object of ``ls --json`` for one instance (None when it is not an RT object).

    With ``graph`` (everything on the medium), each reference says whether its
    target is ``present``; without it, ``present`` is null.
    """
    kind = node.kind
    if kind is None:
        return None
    ds = node.ds
    specific: dict[str, Any]
    if kind in PLANS:
        specific = _plan(ds)
    elif kind == "RT STRUCTURE SET":
        specific = _structure_set(ds, node)
    elif kind == "RT DOSE":
        specific = _dose(ds)
    elif kind in RECORDS:
        specific = _record(ds, kind)
    elif kind in REGISTRATIONS:
        specific = _registration(ds, node)
    else:
        specific = _rt_image(ds)
    images = [r for r in node.refs if r.role == "image"]
    return {
        "type": kind,
        "frame_of_reference_uid": node.frame or None,
        **specific,
        "references": [
            {
                "role": r.role,
                "sop_class_uid": r.sop_class_uid or None,
                "uid": r.uid,
                "present": graph.present(r) if graph is not None else None,
            }
            for r in node.refs
            if r.role != "image"
        ],
        "referenced_images": len(images),
        "referenced_images_present": (
            sum(graph.present(r) for r in images) if graph is not None else None
        ),
    }
