"""Reports as text and JSON documents, and the Patient > Study > Series tree for ``ls``.

No I/O: functions return strings and plain data; the CLI prints them. JSON
documents carry ``"format": 1``; their keys are documented in the README and
never change meaning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pydicom.dataset import Dataset

from mediakit.check.runner import Report
from mediakit.check.snapshot import Snapshot
from mediakit.dicomdir.model import Record
from mediakit.findings import Finding, counts, has_errors, plural
from mediakit.rt import Graph, build_graph, node_of, summarise
from mediakit.rt.table import rt_table

JSON_FORMAT = 1


def summary_line(
    label: str, found: Sequence[Finding], count: int, *, strict: bool, noun: str = "file"
) -> str:
    """``STD-GEN-CD: 1 error, 0 warnings in 41 files (FAILED)`` (``noun`` in the singular)."""
    c = counts(found)
    status = "FAILED" if has_errors(found, strict=strict) else "OK"
    return (
        f"{label}: {plural(c['error'], 'error')}, {plural(c['warning'], 'warning')} "
        f"in {plural(count, noun)} ({status})"
    )


def findings_doc(found: Iterable[Finding], *, strict: bool) -> dict[str, Any]:
    """The common part of every JSON report: status, counts, findings."""
    found = list(found)
    return {
        "status": "fail" if has_errors(found, strict=strict) else "pass",
        "counts": counts(found),
        "findings": [f.as_dict() for f in found],
    }


def check_doc(report: Report, *, strict: bool) -> dict[str, Any]:
    """JSON document of ``mediakit check``."""
    snap = report.snapshot
    return {
        "format": JSON_FORMAT,
        "medium": snap.label,
        "kind": snap.kind,
        "profile": report.profile.id,
        "profile_guessed": report.guessed,
        "files": len(snap.files) + (snap.dicomdir is not None),
        **findings_doc(report.findings, strict=strict),
    }


def _text(ds: Dataset, kw: str) -> str:
    if kw not in ds or ds[kw].value is None or ds[kw].VR == "SQ":
        return ""
    return str(ds[kw].value).strip()


def _rt(where: str, ds: Dataset, graph: Graph, uid: str, sop_class: str) -> Any:
    """The leaf's ``rt`` object: the RT summary of the file (or of its record), else None."""
    node = graph.nodes.get(uid)
    if node is None or node.where != where:
        if (sop_class or _text(ds, "SOPClassUID")) not in rt_table().kinds:
            return None  # not an RT object: no node to make (a 200k-record DICOMDIR of CT)
        node = node_of(where, ds, uid=uid, sop_class_uid=sop_class)
    return summarise(node, graph) if node is not None else None


def _leaf(rec: Record, snap: Snapshot, graph: Graph) -> dict[str, Any]:
    facts = snap.facts_for(rec)
    head = facts.header if facts is not None else None
    return {
        "record_type": rec.record_type,
        "file_id": "/".join(rec.file_id) if rec.file_id else None,
        "present": facts is not None,
        "sop_class_uid": rec.sop_class_uid,
        "sop_instance_uid": rec.sop_instance_uid,
        "instance_number": _text(rec.keys, "InstanceNumber"),
        "rt": _rt(
            facts.file.raw if facts is not None else "",
            head.keys if head is not None else rec.keys,
            graph,
            rec.sop_instance_uid or "",
            rec.sop_class_uid or "",
        ),
    }


_LEVELS = ("PATIENT", "STUDY", "SERIES")


def tree_from_dicomdir(snap: Snapshot, graph: Graph | None = None) -> list[dict[str, Any]]:
    """Patients with their studies, series and instances, as the DICOMDIR records them.

    Every record that references an instance is listed under its nearest PATIENT,
    STUDY and SERIES ancestors, so vendor hierarchies (STUDY at the root, private
    or extra levels, lower-level directory files) list every instance; a level
    the DICOMDIR lacks is filled from the instance's own header.
    """
    assert snap.directory is not None
    graph = graph or _graph(snap)
    # (patient, study, series) records or None -> leaves; insertion order is DICOMDIR order
    groups: dict[tuple[int, int, int], tuple[list[Dataset | None], list[dict[str, Any]]]] = {}
    for root in snap.directory.roots:
        path: list[Record] = []
        for depth, rec in root.walk():
            del path[depth:]
            path.append(rec)
            if rec.file_id is None or rec.record_type in _LEVELS or rec.children:
                continue
            facts = snap.facts_for(rec)
            if facts is not None and facts.header is not None and facts.header.is_directory:
                continue
            header = facts.header.keys if facts is not None and facts.header is not None else None
            levels = [
                next((r for r in reversed(path) if r.record_type == t), None) for t in _LEVELS
            ]
            key = (id(levels[0]), id(levels[1]), id(levels[2]))
            keys, leaves = groups.setdefault(key, ([r.keys if r else None for r in levels], []))
            keys[:] = [k if k is not None else header for k in keys]  # a level the DICOMDIR lacks
            leaves.append(_leaf(rec, snap, graph))
    return _nest(groups)


def _nest(
    groups: dict[tuple[int, int, int], tuple[list[Dataset | None], list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    """Patient > study > series documents from leaves grouped by their three ancestors."""
    patients: dict[int, tuple[Dataset, dict[int, tuple[Dataset, list[dict[str, Any]]]]]] = {}
    for (p, s, _), (found, leaves) in groups.items():
        keys = [k if k is not None else Dataset() for k in found]
        studies = patients.setdefault(p, (keys[0], {}))[1]
        studies.setdefault(s, (keys[1], []))[1].append(_series_doc(keys[2], leaves))
    return [
        _patient_doc(p_keys, [_study_doc(s_keys, series) for s_keys, series in studies.values()])
        for p_keys, studies in patients.values()
    ]


def _graph(snap: Snapshot) -> Graph:
    return build_graph((f.file.raw, f.header.keys) for f in snap.files if f.header is not None)


def tree_from_files(snap: Snapshot, graph: Graph | None = None) -> list[dict[str, Any]]:
    """The same tree built from the files' headers, for media without a usable DICOMDIR."""
    graph = graph or _graph(snap)
    nest: dict[str, dict[str, dict[str, list[tuple[Dataset, dict[str, Any]]]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for f in snap.files:
        if f.header is None:
            continue
        k = f.header.keys
        leaf = {
            "record_type": None,
            "file_id": "/".join(f.file.parts),
            "present": True,
            "sop_class_uid": f.header.sop_class_uid,
            "sop_instance_uid": f.header.sop_instance_uid,
            "instance_number": _text(k, "InstanceNumber"),
            "rt": _rt(f.file.raw, k, graph, f.header.sop_instance_uid, f.header.sop_class_uid),
        }
        nest[_text(k, "PatientID")][_text(k, "StudyInstanceUID")][
            _text(k, "SeriesInstanceUID")
        ].append((k, leaf))
    patients = []
    for _, studies in sorted(nest.items()):
        study_docs = []
        for _, series in sorted(studies.items()):
            series_docs = [
                _series_doc(items[0][0], [leaf for _, leaf in items])
                for _, items in sorted(series.items())
            ]
            study_docs.append(_study_doc(next(iter(series.values()))[0][0], series_docs))
        first = next(iter(next(iter(studies.values())).values()))[0][0]
        patients.append(_patient_doc(first, study_docs))
    return patients


def _patient_doc(ds: Dataset, studies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "patient_id": _text(ds, "PatientID"),
        "patient_name": _text(ds, "PatientName"),
        "studies": studies,
    }


def _study_doc(ds: Dataset, series: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "study_instance_uid": _text(ds, "StudyInstanceUID"),
        "study_date": _text(ds, "StudyDate"),
        "study_id": _text(ds, "StudyID"),
        "description": _text(ds, "StudyDescription"),
        "series": series,
    }


def _series_doc(ds: Dataset, leaves: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "series_instance_uid": _text(ds, "SeriesInstanceUID"),
        "modality": _text(ds, "Modality"),
        "series_number": _text(ds, "SeriesNumber"),
        "count": len(leaves),
        "instances": leaves,
    }


def ls_doc(snap: Snapshot) -> dict[str, Any]:
    """JSON document of ``mediakit ls``."""
    from_dicomdir = snap.directory is not None and bool(snap.directory.roots)
    return {
        "format": JSON_FORMAT,
        "medium": snap.label,
        "kind": snap.kind,
        "volume_id": snap.volume_id,
        "fileset_id": snap.directory.fileset_id if snap.directory else None,
        "source": "dicomdir" if from_dicomdir else "scan",
        "patients": tree_from_dicomdir(snap) if from_dicomdir else tree_from_files(snap),
    }


def ls_text(doc: dict[str, Any]) -> list[str]:
    """The ``ls`` tree as indented lines."""
    lines = [
        f"{doc['medium']} ({doc['kind']}, volume {doc['volume_id'] or '-'}, "
        f"File-set {doc['fileset_id'] or '-'}, from {doc['source']})"
    ]
    for p in doc["patients"]:
        lines.append(f"PATIENT {p['patient_id']}  {p['patient_name']}")
        for s in p["studies"]:
            lines.append(
                f"  STUDY {s['study_date'] or '-'} id={s['study_id'] or '-'} "
                f"{s['description']}  {s['study_instance_uid']}"
            )
            for se in s["series"]:
                kinds = sorted({i["record_type"] or "?" for i in se["instances"]})
                missing = sum(not i["present"] for i in se["instances"])
                gone = f", {missing} missing" if missing else ""
                lines.append(
                    f"    SERIES {se['modality'] or '-'} #{se['series_number'] or '-'}: "
                    f"{se['count']} {'/'.join(kinds)}{gone}  {se['series_instance_uid']}"
                )
                lines.extend(f"      {rt_line(i['rt'])}" for i in se["instances"] if i["rt"])
    return lines


def rt_line(rt: dict[str, Any]) -> str:
    """One line of what a physicist looks for in an RT object (``ls``)."""
    label = f" {rt['label']!r}" if rt.get("label") else ""
    if rt.get("name") and rt["name"] != rt.get("label"):
        label += f" ({rt['name']})"
    refs = rt["references"]
    missing = [r for r in refs if r["present"] is False]
    if "beams" in rt:
        parts = [plural(rt["number_of_beams"], "beam"), plural(rt["fractions_planned"], "fraction")]
        if rt["application_setups"]:
            parts.append(plural(rt["application_setups"], "application setup"))
        if rt["prescription_dose"] is not None:
            parts.append(f"{rt['prescription_dose']:g} Gy prescribed")
        detail = ", ".join(parts)
    elif "rois" in rt:
        names = ", ".join(r["name"] or "?" for r in rt["rois"][:6])
        more = ", ..." if len(rt["rois"]) > 6 else ""
        detail = (
            f"{plural(rt['number_of_rois'], 'ROI')} ({names}{more}) on "
            f"{plural(rt['referenced_images'], 'image')} ({rt['referenced_images_present']} here)"
        )
    elif "summation_type" in rt:
        detail = f"{rt['units'] or '?'} {rt['dose_type'] or '?'}, summation {rt['summation_type']}"
    elif "treatment_date" in rt:
        numbers = ", ".join(map(str, rt["fraction_numbers"])) or "-"
        planned = rt["fractions_planned"] if rt["fractions_planned"] is not None else "?"
        detail = f"treated {rt['treatment_date'] or '-'}, fraction {numbers} of {planned}"
        if rt["fractions_delivered"] is not None:
            detail += f", {rt['fractions_delivered']} delivered"
    elif "frames_of_reference" in rt:
        detail = f"joins {plural(len(rt['frames_of_reference']), 'frame')} of reference"
    else:
        beam = rt.get("referenced_beam_number")
        detail = f"beam {beam}" if beam is not None else "-"
    gone = [r["role"] for r in missing]
    images, here = rt["referenced_images"], rt["referenced_images_present"]
    if here is not None and here < images and "rois" not in rt:  # a structure set says "(n here)"
        gone.append(f"{images - here} of {plural(images, 'image')}")
    return f"{rt['type']}{label}: {detail}" + (f"; missing here: {', '.join(gone)}" if gone else "")
