"""D rules: the DICOMDIR's structure, organisation and keys (PS3.3 Annex F, PS3.11 D.3.3).

Each rule is a pure function over a :class:`Snapshot`; structural damage found
while parsing (offsets, cycles, encoding) arrives as the parser's findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from mediakit.check.snapshot import Snapshot
from mediakit.dicomdir.model import Record, walk_all
from mediakit.findings import Finding, Severity, finding, plural
from mediakit.profiles import Profile, allowed_children, keyword_tag, record_type_for

# VRs whose values are text, padded to even length with a space or a NUL (PS3.5 §6.2)
_TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI"}
    | {"UR", "UT"}
)
_HIERARCHY = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID"}


def where(rec: Record) -> str:
    """A record's place for messages: its directory file and offset, or its type."""
    name = rec.directory_file or "DICOMDIR"
    return f"{name}@{rec.offset:#x}" if rec.offset is not None else f"{name}:{rec.record_type}"


def _text(rec: Record, kw: str) -> str:
    tag = _tag(kw)  # by tag: looking a keyword up in every record cost more than decoding it
    if tag not in rec.keys:
        return ""
    value = rec.keys[tag].value
    return "" if value is None else str(value).strip()


def _tag(kw: str) -> BaseTag:
    tag = keyword_tag(kw)
    assert tag is not None, kw  # profiles.py validates every keyword it loads
    return tag


def _has_value(rec: Record, kw: str) -> bool:
    """A key with a value (a sequence with items), judged without decoding raw values."""
    elem = rec.get_item(_tag(kw))
    if elem is None or elem.value is None:
        return False
    if isinstance(elem, RawDataElement):  # text is padded with spaces or NULs; numbers are not
        raw = elem.value
        return bool(raw.strip(b" \0")) if elem.VR in _TEXT_VRS else bool(raw)
    return bool(len(elem.value)) if elem.VR == "SQ" else bool(str(elem.value).strip())


def d101_dicomdir_present(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """The medium has a DICOMDIR in its root (PS3.10 §8.6; PS3.11 D.3)."""
    if snap.dicomdir is None:
        yield finding("D101", snap.label, f"{plural(len(snap.files), 'file')} listed by scanning")


def parser_findings(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """D102-D107, D113, D118, D119, D123: what the tolerant parser met (PS3.3 F.3)."""
    if snap.directory is not None:
        yield from snap.directory.findings


def d108_record_level(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Each record sits at a level Table F.4-1 allows (PS3.3 Table F.4-1)."""
    if snap.directory is None:
        return
    stack: list[tuple[str | None, Record]] = [(None, r) for r in snap.directory.roots]
    while stack:
        parent, rec = stack.pop()
        allowed = allowed_children(parent)
        if allowed is not None and rec.record_type not in allowed and rec.record_type != "PRIVATE":
            yield finding("D108", where(rec), f"{rec.record_type} under {parent or 'the root'}")
        stack.extend((rec.record_type, c) for c in rec.children)


def d109_required_keys(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Type 1 keys have values and Type 2 keys are present (PS3.3 F.5; PS3.11 D.3.3)."""
    if snap.directory is None:
        return
    for rec in snap.directory.records:
        if rec.damaged:
            continue  # cut short: D102 says so; its missing keys are not its own fault
        keys = profile.keys_for(rec.record_type)
        for kw in keys.type1:
            if not _has_value(rec, kw):
                yield finding(
                    "D109", where(rec), f"{rec.record_type} {kw} (Type 1) empty or absent"
                )
        for kw in keys.type2:
            if rec.get_item(_tag(kw)) is None:
                yield finding("D109", where(rec), f"{rec.record_type} {kw} (Type 2) absent")


def d110_record_type_fits(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """A leaf's record type is the one its SOP Class maps to (PS3.3 F.5, Table F.4-1)."""
    if snap.directory is None:
        return
    for rec in snap.directory.records:
        if rec.sop_class_uid and rec.record_type != "PRIVATE":
            expected = record_type_for(rec.sop_class_uid)
            if expected is not None and expected != rec.record_type:
                yield finding(
                    "D110",
                    where(rec),
                    f"{rec.record_type} for {rec.sop_class_uid}, expected {expected}",
                )


def d121_sop_class_in_table(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """A record's Referenced SOP Class has a record type in Table F.4-1 (PS3.3 Table F.4-1).

    A warning on a medium, not the builder's error: a class newer than the table, or a
    private one, may be right where it is; only its record type cannot be judged (D110).
    PRIVATE records may reference anything.
    """
    if snap.directory is None:
        return
    for rec in snap.directory.records:
        uid = (rec.sop_class_uid or "").strip()
        if uid and rec.record_type != "PRIVATE" and record_type_for(uid) is None:
            yield finding(
                "D121",
                where(rec),
                f"{uid} in a {rec.record_type} record: its record type cannot be checked",
                severity=Severity.WARNING,
            )


def d111_record_matches_file(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Referenced SOP Class/Instance and Transfer Syntax UIDs equal the file's (Table F.3-3)."""
    if snap.directory is None:
        return
    for rec in snap.directory.records:
        facts = snap.facts_for(rec)
        if facts is None or facts.header is None or facts.header.is_directory or rec.damaged:
            continue  # a lower-level directory file is followed (D125), not an instance
        h = facts.header
        for name, in_record, in_file in (
            ("SOP Class UID", rec.sop_class_uid, h.sop_class_uid),
            ("SOP Instance UID", rec.sop_instance_uid, h.sop_instance_uid),
            ("Transfer Syntax UID", rec.transfer_syntax, h.transfer_syntax),
        ):
            if in_record is None:
                yield finding("D111", where(rec), f"Referenced {name} in File absent")
            elif in_record.strip() != in_file:
                yield finding("D111", where(rec), f"{name} {in_record} but file has {in_file}")


def d112_referenced_files_exist(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Every Referenced File ID names a file on the medium (PS3.3 F.3.2.2)."""
    if snap.directory is None:
        return
    contexts: dict[int, str] = {}  # parent record -> its description, computed once
    for rec in snap.directory.records:
        res = snap.resolutions.get(id(rec))
        if res is not None and res.file is None and res.unsafe is None and res.candidates <= 1:
            path = "\\".join(rec.file_id or ())
            parent = snap.parents.get(id(rec))
            if parent is None:
                context = ""
            elif (context := contexts.get(id(parent), "?")) == "?":
                context = contexts[id(parent)] = _context(snap, parent)
            yield finding("D112", where(rec), f"{rec.record_type} {path}{context}")


def _context(snap: Snapshot, node: Record | None) -> str:
    """Patient / study / series a record lies under, to say what a missing file belonged to."""
    names: list[str] = []
    while node is not None:
        if kw := _HIERARCHY.get(node.record_type):
            names.append(f"{node.record_type.lower()} {_text(node, kw)}")
        node = snap.parents.get(id(node))
    return f" ({', '.join(reversed(names))})" if names else ""


def d114_one_record_per_file(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """No file is referenced by two records (PS3.3 F.2)."""
    if snap.directory is None:
        return
    seen: Counter[tuple[str, ...]] = Counter()
    for rec in snap.directory.records:
        res = snap.resolutions.get(id(rec))
        if res is not None and res.file is not None:
            seen[res.file.parts] += 1
            if seen[res.file.parts] == 2:
                yield finding("D114", res.file.raw)


def d115_dicom_files_referenced(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Every DICOM file of the File-set has a record (PS3.3 F.2)."""
    if snap.directory is None:
        return
    referenced = {r.file.parts for r in snap.resolutions.values() if r.file is not None}
    for facts in snap.files:
        h = facts.header
        if h is not None and not h.is_directory and facts.file.parts not in referenced:
            yield finding("D115", facts.file.raw)


def d116_unique_entities(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """One PATIENT per Patient ID, one STUDY / SERIES per UID (PS3.3 F.5; PS3.11 D.3.3)."""
    if snap.directory is None:
        return
    seen: dict[tuple[str, str], Record] = {}
    for rec in snap.directory.records:
        kw = _HIERARCHY.get(rec.record_type)
        value = _text(rec, kw) if kw else ""
        if kw and value:
            first = seen.setdefault((rec.record_type, value), rec)
            if first is not rec:
                yield finding(
                    "D116", where(rec), f"{rec.record_type} {kw} {value} also at {where(first)}"
                )


def d117_std_gen_hierarchy(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Records referencing instances sit under PATIENT > STUDY > SERIES (PS3.11 D.3.3)."""
    if snap.directory is None:
        return
    for depth, rec in walk_all(list(snap.directory.roots)):
        if rec.file_id is not None and rec.sop_instance_uid and depth != 3:
            yield finding("D117", where(rec), f"{rec.record_type} at level {depth + 1}, not 4")


def d120_no_empty_entities(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """PATIENT, STUDY and SERIES records have records below them (PS3.11 D.3.3)."""
    if snap.directory is None:
        return
    for rec in snap.directory.records:
        if id(rec) not in snap.directory.reachable:
            continue  # cut off by a broken offset (D104/D105): its children are unknown
        if rec.record_type in ("PATIENT", "STUDY", "SERIES") and not rec.children:
            yield finding("D120", where(rec), f"{rec.record_type} with nothing below it")


def d126_sequence_only(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Active records the offset chain does not reach (a broken next or lower-level offset,
    D104-D106), found only by reading the Directory Record Sequence in order (PS3.3
    F.3.2.2); ``ls`` places them by record order. One finding per directory file."""
    if snap.directory is None:
        return
    cut: dict[str, list[Record]] = {}
    for rec in snap.directory.records:
        if id(rec) not in snap.directory.reachable and rec.in_use != 0:
            cut.setdefault(rec.directory_file or "DICOMDIR", []).append(rec)
    for recs in cut.values():
        leaves = sum(r.file_id is not None and r.sop_instance_uid is not None for r in recs)
        yield finding(
            "D126",
            where(recs[0]),
            f"{plural(len(recs), 'record')} (the first here), {plural(leaves, 'instance')}: "
            "placed by record order",
        )


def d124_keys_match_files(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Record keys agree with the files below them (PS3.3 F.5).

    A UID or Patient ID that disagrees puts a file in the wrong place: error.
    Other keys that disagree are warnings. Keys a file lacks are not compared
    (a File-set Creator may supply them, PS3.11 D.3.3.1). One finding per
    record and key, naming the first file that disagrees and how many do.
    """
    if snap.directory is None:
        return
    # (record, keyword) -> (record value, first file, its value, number of files)
    seen: dict[tuple[int, str], tuple[Record, str, str, str, int]] = {}
    texts: dict[int, dict[str, str]] = {}  # each record's key values, decoded once

    def values(node: Record) -> dict[str, str]:
        if (known := texts.get(id(node))) is None:
            kws = profile.keys_for(node.record_type).all()
            known = texts[id(node)] = {
                kw: _text(node, kw)
                for kw in kws
                if kw != "SpecificCharacterSet" and node.get_item(_tag(kw)) is not None
            }
        return known

    for root in snap.directory.roots:
        path: list[Record] = []
        for depth, rec in root.walk():
            del path[depth:]
            path.append(rec)
            facts = snap.facts_for(rec)
            if facts is None or facts.header is None:
                continue
            for node in path:
                for kw, ours in values(node).items():
                    file_value = _file_text(facts.header.keys, kw)
                    if file_value and ours != file_value:
                        key = (id(node), kw)
                        n = seen[key][4] + 1 if key in seen else 1
                        first = seen.get(key, (node, ours, facts.file.raw, file_value, 0))
                        seen[key] = (*first[:4], n)
    for (_, kw), (node, ours, raw, file_value, n) in seen.items():
        others = f" (and {n - 1} more files)" if n > 1 else ""
        yield finding(
            "D124",
            where(node),
            f"{node.record_type} {kw} {ours!r} but {raw} has {file_value!r}{others}",
            severity=Severity.ERROR if kw in _HIERARCHY.values() else None,
        )


def _file_text(ds: Dataset, kw: str) -> str:
    if ds.get_item(_tag(kw)) is None:
        return ""
    elem = ds[_tag(kw)]
    if elem.VR == "SQ" or elem.value is None:
        return ""
    return str(elem.value).strip()
