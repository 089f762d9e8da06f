"""Reports as text and JSON documents, and the ``ls`` tree (built in check/listing.py) as text.

No I/O: functions return strings and plain data; the CLI prints them. JSON
documents carry ``"format": 1``; their keys are documented in the README and
never change meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mediakit.check.listing import build_listing
from mediakit.check.runner import Report
from mediakit.check.snapshot import Snapshot
from mediakit.findings import Finding, compact_json, counts, has_errors, plural

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


def ls_doc(snap: Snapshot) -> dict[str, Any]:
    """JSON document of ``mediakit ls``: every instance, with how it was found."""
    listing = build_listing(snap)
    from_dicomdir = snap.directory is not None and bool(snap.directory.records)
    return {
        "format": JSON_FORMAT,
        "medium": snap.label,
        "kind": snap.kind,
        "volume_id": snap.volume_id,
        "fileset_id": snap.directory.fileset_id if snap.directory else None,
        "source": "dicomdir" if from_dicomdir else "scan",
        "found_by": listing.found_by,
        "patients": listing.patients,
    }


def _open(obj: dict[str, Any], key: str) -> str:
    """``{...all but key..., "key": [`` of a non-empty object (compact, the C encoder)."""
    head = compact_json({k: v for k, v in obj.items() if k != key})
    return f"{head[:-1]}, {compact_json(key)}: ["


def ls_json(doc: dict[str, Any]) -> str:
    """The ``ls`` document as JSON, one instance a line.

    The same document :func:`~mediakit.findings.to_json` would give, but each item is
    encoded without indent, which is the C encoder: one indented dump
    of a 200k-record DICOMDIR's tree took longer than reading it (benchmarks/).
    """
    out = [_open(doc, "patients")]
    for p_n, patient in enumerate(doc["patients"]):
        out.append(("," if p_n else "") + "\n " + _open(patient, "studies"))
        for s_n, study in enumerate(patient["studies"]):
            out.append(("," if s_n else "") + "\n  " + _open(study, "series"))
            for se_n, series in enumerate(study["series"]):
                out.append(("," if se_n else "") + "\n   " + _open(series, "instances"))
                out.append(",".join("\n    " + compact_json(i) for i in series["instances"]))
                out.append("]}")
            out.append("]}")
        out.append("]}")
    out.append("]}")
    return "".join(out)


def _notes(doc: dict[str, Any]) -> list[str]:
    """``note:`` lines saying how many instances a fallback found or placed."""
    found = doc["found_by"]
    notes = []
    if found["sequence"]:
        notes.append(
            f"note: {plural(found['sequence'], 'instance')} placed by record order, "
            "not by the DICOMDIR's offsets (D123, D126)"
        )
    if found["scan"] and doc["source"] == "dicomdir":
        notes.append(
            f"note: {plural(found['scan'], 'instance')} found by scanning the medium: "
            "not in the DICOMDIR (D115)"
        )
    elif found["scan"] or doc["source"] == "scan":
        notes.append(
            f"note: no usable DICOMDIR: {plural(found['scan'], 'instance')} found by scanning"
        )
    return notes


def ls_text(doc: dict[str, Any]) -> list[str]:
    """The ``ls`` tree as indented lines."""
    lines = [
        f"{doc['medium']} ({doc['kind']}, volume {doc['volume_id'] or '-'}, "
        f"File-set {doc['fileset_id'] or '-'}, from {doc['source']})",
        *_notes(doc),
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
