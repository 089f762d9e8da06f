"""Lay out a File-set: File IDs and the directory record tree, from instance headers.

Pure: no I/O. Given one :class:`Placed` per instance (its header and the
transfer syntax it will be written in), returns the File IDs in the
``PT000000/ST000000/SE000000/IM000000`` style (PS3.10 §8.2, §8.5: uppercase,
at most 8 characters, at most 8 components) and the PATIENT > STUDY > SERIES >
leaf tree that STD-GEN requires (PS3.11 D.3.3), with each record's keys for the
profile.

A Type 1 key the files do not supply is filled deterministically and reported
(D122, PS3.11 D.3.3.1: the File-set Creator supplies it); the files themselves
are never changed. With ``fix=False`` the same findings are errors.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from mediakit.dicomdir.model import Record
from mediakit.errors import InternalError
from mediakit.findings import Finding, Severity, finding
from mediakit.part10 import Header
from mediakit.profiles import (
    Profile,
    is_root_record_type,
    keyword_tag,
    modality_for,
    record_type_for,
)

HIERARCHY_KEYS: Final = (
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "RelatedGeneralSOPClassUID",
)
# Where a missing date or time may be taken from, in order, within the same instance.
_DATE_SOURCES: Final = (
    "SeriesDate",
    "AcquisitionDate",
    "ContentDate",
    "InstanceCreationDate",
    "StructureSetDate",
    "RTPlanDate",
    "TreatmentDate",
)
_TIME_SOURCES: Final = (
    "SeriesTime",
    "AcquisitionTime",
    "ContentTime",
    "InstanceCreationTime",
    "StructureSetTime",
    "RTPlanTime",
    "TreatmentTime",
)
_RELATED: Final = {
    "StudyDate": _DATE_SOURCES,
    "StudyTime": _TIME_SOURCES,
    "ContentDate": ("StudyDate", *_DATE_SOURCES),
    "ContentTime": ("StudyTime", *_TIME_SOURCES),
    "PresentationCreationDate": ("ContentDate", "StudyDate", *_DATE_SOURCES),
    "PresentationCreationTime": ("ContentTime", "StudyTime", *_TIME_SOURCES),
}
# Values invented by VR when nothing related has one: obviously placeholders.
_INVENTED_BY_VR: Final = {
    "DA": "19000101",
    "TM": "000000",
    "IS": "1",
    "CS": "UNKNOWN",
    "SH": "UNKNOWN",
    "LO": "UNKNOWN",
    "PN": "UNKNOWN",
}


@dataclass(frozen=True, slots=True)
class Placed:
    """One instance to lay out: its header and the syntax its file will have."""

    header: Header
    transfer_syntax: str
    source: str  # where it came from, for findings (input path or File ID)


@dataclass(frozen=True, slots=True)
class Layout:
    """File IDs per instance (same order as the input) and the root directory entity."""

    file_ids: tuple[tuple[str, ...] | None, ...]  # None: not placed (see findings)
    roots: tuple[Record, ...]
    findings: tuple[Finding, ...]


def all_keywords(profile: Profile) -> tuple[str, ...]:
    """Every attribute the layout may read from a header, for :func:`part10.read_header`."""
    kws = [*HIERARCHY_KEYS, *_DATE_SOURCES, *_TIME_SOURCES]
    for keys in profile.record_keys.values():
        kws.extend(keys.all())
    return tuple(dict.fromkeys(kws))


def _value(ds: Dataset, kw: str) -> str:
    """A key's value as text; empty when absent or empty."""
    tag = keyword_tag(kw)  # by tag: pydicom resolves a keyword on every access
    if tag is None or tag not in ds:
        return ""
    value = ds[tag].value
    if value is None:
        return ""
    return str(value).strip()


def _num(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


class _Filler:
    """Fills keys into records and records every fill as a finding."""

    def __init__(self, fix: bool) -> None:
        self.severity = Severity.WARNING if fix else Severity.ERROR
        self.findings: list[Finding] = []

    def put(self, rec: Dataset, kw: str, value: str, where: str, how: str) -> None:
        rec[kw] = _element_like(kw, value)
        self.findings.append(
            finding("D122", where, f"{kw} {how}: {value!r}", severity=self.severity)
        )


def _element_like(kw: str, value: str) -> DataElement:
    """A new element for a keyword, with the dictionary's VR."""
    tag = tag_for_keyword(kw)
    if tag is None:
        raise InternalError(f"{kw} is not a DICOM keyword")
    return DataElement(tag, dictionary_VR(tag), value)


def _copy_keys(
    rec: Dataset,
    sources: Sequence[Dataset],
    keys: Iterable[tuple[str, str]],
    filler: _Filler,
    where: str,
    *,
    invented: dict[str, str],
    implied: dict[str, tuple[str, str]] | None = None,
) -> None:
    """Copy (keyword, type) keys into ``rec`` from the first source that has a value.

    A Type 1 key none has is filled: from ``implied`` (keyword -> value, where it comes
    from), else a related attribute, else ``invented`` or a placeholder (D122 each).
    """
    for kw, key_type in keys:
        for src in sources:
            if _value(src, kw):
                rec[kw] = src[kw]
                break
        else:
            if key_type == "2":
                if any(kw in src for src in sources):
                    rec[kw] = next(src[kw] for src in sources if kw in src)
                else:
                    rec[kw] = _element_like(kw, "")
            elif key_type == "1" and implied and kw in implied:
                value, source = implied[kw]
                filler.put(rec, kw, value, where, f"missing, implied by {source}")
            elif key_type == "1":
                _fill(rec, sources, kw, filler, where, invented)


def _fill(
    rec: Dataset,
    sources: Sequence[Dataset],
    kw: str,
    filler: _Filler,
    where: str,
    invented: dict[str, str],
) -> None:
    """A Type 1 key nothing supplies: take a related attribute, else invent (D122)."""
    for alt in _RELATED.get(kw, ()):
        for src in sources:
            if value := _value(src, alt):
                filler.put(rec, kw, value, where, f"missing, taken from {alt}")
                return
    if kw in invented:
        filler.put(rec, kw, invented[kw], where, "missing, invented")
        return
    vr = dictionary_VR(kw)
    if vr not in _INVENTED_BY_VR:
        filler.findings.append(
            finding("D109", where, f"{kw} missing and cannot be invented", severity=Severity.ERROR)
        )
        return
    filler.put(rec, kw, _INVENTED_BY_VR[vr], where, "missing, invented")


def _group(items: Iterable[int], key: Sequence[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i in items:
        out[key[i]].append(i)
    return out


def lay_out(placed: Sequence[Placed], profile: Profile, *, fix: bool = True) -> Layout:
    """File IDs and records for every instance, with the fills it took (D122) reported.

    Instances whose SOP Class has no record type (D121), or that lack the UIDs a
    hierarchy needs, are not placed; their findings say why.
    """
    filler = _Filler(fix)
    found: list[Finding] = []
    heads = [p.header.keys for p in placed]
    rtypes: list[str | None] = []
    for p in placed:
        rtype = record_type_for(p.header.sop_class_uid)
        if rtype is None or is_root_record_type(rtype):
            why = "no record type" if rtype is None else f"root-level {rtype} not supported"
            found.append(finding("D121", p.source, f"{p.header.sop_class_uid} ({why})"))
            rtype = None
        elif not (
            _value(p.header.keys, "StudyInstanceUID") and _value(p.header.keys, "SeriesInstanceUID")
        ):
            found.append(finding("D109", p.source, "StudyInstanceUID or SeriesInstanceUID missing"))
            rtype = None
        rtypes.append(rtype)
    usable = [i for i, r in enumerate(rtypes) if r is not None]

    # Patients keyed by Patient ID; an empty ID gets a stable invented one per name.
    pid = [_value(h, "PatientID") for h in heads]
    for i in usable:
        if not pid[i]:
            name = _value(heads[i], "PatientName") or _value(heads[i], "StudyInstanceUID")
            pid[i] = "MK" + hashlib.sha256(name.encode()).hexdigest()[:14].upper()
    study = [_value(h, "StudyInstanceUID") for h in heads]
    series = [_value(h, "SeriesInstanceUID") for h in heads]

    file_ids: list[tuple[str, ...] | None] = [None] * len(placed)
    roots: list[Record] = []
    for p_no, (patient, p_items) in enumerate(sorted(_group(usable, pid).items())):
        p_src = [heads[i] for i in sorted(p_items, key=lambda i: placed[i].header.sop_instance_uid)]
        where = f"PATIENT {patient}"
        p_rec = Record("PATIENT")
        _copy_keys(
            p_rec.keys,
            p_src,
            _typed(profile, "PATIENT"),
            filler,
            where,
            invented={"PatientID": patient},
        )
        roots.append(p_rec)
        studies = _group(p_items, study)
        order = sorted(studies, key=lambda s: (_first(heads, studies[s], "StudyDate"), s))
        for s_no, s_uid in enumerate(order):
            s_items = sorted(studies[s_uid], key=lambda i: placed[i].header.sop_instance_uid)
            s_src = [heads[i] for i in s_items]
            s_rec = Record("STUDY")
            _copy_keys(
                s_rec.keys,
                s_src,
                _typed(profile, "STUDY"),
                filler,
                f"STUDY {s_uid}",
                invented={"StudyID": str(s_no + 1)},
            )
            p_rec.children.append(s_rec)
            _series(
                s_rec,
                s_items,
                series,
                heads,
                rtypes,
                placed,
                profile,
                filler,
                file_ids,
                (p_no, s_no),
            )
    return Layout(tuple(file_ids), tuple(roots), (*found, *filler.findings))


def _first(heads: Sequence[Dataset], items: Iterable[int], kw: str) -> str:
    return min((v for i in items if (v := _value(heads[i], kw))), default="")


def _typed(profile: Profile, record_type: str) -> list[tuple[str, str]]:
    keys = profile.keys_for(record_type)
    return [
        *((k, "1") for k in keys.type1),
        *((k, "2") for k in keys.type2),
        *((k, "1C") for k in keys.type1c),
    ]


def _series(
    s_rec: Record,
    s_items: Sequence[int],
    series: Sequence[str],
    heads: Sequence[Dataset],
    rtypes: Sequence[str | None],
    placed: Sequence[Placed],
    profile: Profile,
    filler: _Filler,
    file_ids: list[tuple[str, ...] | None],
    numbers: tuple[int, int],
) -> None:
    """SERIES records of one study and the leaves under them."""
    groups = _group(s_items, series)
    used_numbers = {n for i in s_items if (n := _num(_value(heads[i], "SeriesNumber")))}
    next_number = max(used_numbers, default=0) + 1
    order = sorted(groups, key=lambda u: (_num(_first(heads, groups[u], "SeriesNumber")), u))
    for se_no, se_uid in enumerate(order):
        items = groups[se_uid]
        src = [heads[i] for i in items]
        invented = {}
        if not any(_value(h, "SeriesNumber") for h in src):
            invented["SeriesNumber"] = str(next_number)
            next_number += 1
        se_rec = Record("SERIES")
        _copy_keys(
            se_rec.keys,
            src,
            _typed(profile, "SERIES"),
            filler,
            f"SERIES {se_uid}",
            invented=invented,
            implied=_implied_modality([placed[i].header.sop_class_uid for i in items]),
        )
        s_rec.children.append(se_rec)
        numbered = {n for i in items if (n := _num(_value(heads[i], "InstanceNumber")))}
        next_instance = max(numbered, default=0) + 1
        leaf_order = sorted(
            items,
            key=lambda i: (
                _num(_value(heads[i], "InstanceNumber")),
                placed[i].header.sop_instance_uid,
            ),
        )
        for im_no, i in enumerate(leaf_order):
            h = placed[i].header
            rtype = rtypes[i]
            assert rtype is not None
            inv = {}
            if not _value(h.keys, "InstanceNumber"):
                inv["InstanceNumber"] = str(next_instance)
                next_instance += 1
            fid = (f"PT{numbers[0]:06d}", f"ST{numbers[1]:06d}", f"SE{se_no:06d}", f"IM{im_no:06d}")
            leaf = Record(
                rtype,
                file_id=fid,
                sop_class_uid=h.sop_class_uid,
                sop_instance_uid=h.sop_instance_uid,
                transfer_syntax=placed[i].transfer_syntax,
                related_general_sop_class=tuple(
                    str(u) for u in _multi(h.keys, "RelatedGeneralSOPClassUID")
                ),
            )
            _copy_keys(
                leaf.keys, [h.keys], _typed(profile, rtype), filler, placed[i].source, invented=inv
            )
            se_rec.children.append(leaf)
            file_ids[i] = fid


def _implied_modality(sop_classes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Modality from the SOP Class table (profiles/modalities.toml), when the series' classes
    agree on one; else nothing, and a missing Modality gets the placeholder."""
    found = {modality_for(c) for c in sop_classes}
    if len(found) != 1 or None in found:
        return {}
    (value,) = found
    assert value is not None
    classes = ", ".join(sorted(set(sop_classes)))
    return {"Modality": (value, f"the SOP Class {classes} (profiles/modalities.toml)")}


def _multi(ds: Dataset, kw: str) -> list[object]:
    tag = keyword_tag(kw)
    if tag is None or tag not in ds or ds[tag].value in (None, ""):
        return []
    value = ds[tag].value
    return list(value) if isinstance(value, MultiValue | list) else [value]
