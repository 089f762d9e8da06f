"""The Patient > Study > Series > instance tree of ``ls``: every instance, however found.

An instance is found one of three ways (its ``found_by``):

- ``offsets``: a record the offset chain reaches (PS3.3 F.3.2.2);
- ``sequence``: a record placed by record order, because the offsets are unusable
  (D123) or because the chain does not reach it (D126);
- ``scan``: a DICOM file on the medium that no record references (D115), or any
  DICOM file of a medium without a DICOMDIR (D101).

and placed one of two ways (its ``placement``): ``tree``, under the PATIENT,
STUDY and SERIES records above it (a level the DICOMDIR lacks taken from the
file's own header), or ``uids``, by the Patient ID and Study / Series Instance
UIDs of its header, under the DICOMDIR's records for those where it has them.

No I/O, and linear in the number of records and files: each leaf looks up a
few ancestors; nothing is compared pairwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from mediakit.check.snapshot import Snapshot
from mediakit.dicomdir.model import Record, walk_all
from mediakit.dicomdir.order import order_parents
from mediakit.profiles import keyword_tag, record_type_for
from mediakit.rt import Graph, build_graph, node_of, summarise
from mediakit.rt.table import rt_table

LEVELS: Final = ("PATIENT", "STUDY", "SERIES")
_IDS: Final = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID")
FOUND_BY: Final = ("offsets", "sequence", "scan")
_ASCII_VRS: Final = frozenset({"AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})  # PS3.5 6.2
_MAX_CHAIN: Final = 64  # ancestors looked at for one record (a hostile chain is cut here)

Key = tuple[Hashable, Hashable, Hashable]
Parent = Callable[[Record], Record | None]
_Study = tuple[list[Dataset | None], list["_Group"]]


def text(keys: Dataset | Record | None, kw: str) -> str:
    """A key's value (of a header, or a record's) as text, '' when absent, empty or a sequence.

    A value still raw in an ASCII VR (numbers, codes, UIDs, dates) is decoded here:
    pydicom's conversion and validation of 200k Instance Numbers cost more than the rest,
    and a record's keys are then never made a Dataset (:class:`Record`).
    """
    tag = keyword_tag(kw)
    elem = keys.get_item(tag) if keys is not None and tag is not None else None
    if elem is None or elem.value is None:
        return ""
    if isinstance(elem, RawDataElement) and elem.VR in _ASCII_VRS:
        return bytes(elem.value).decode("ascii", "replace").strip(" \0")
    assert keys is not None and tag is not None
    elem = (keys.keys if isinstance(keys, Record) else keys)[tag]
    return "" if elem.value is None or elem.VR == "SQ" else str(elem.value).strip()


def _number(value: str) -> tuple[int, int]:
    """Sort key of an IS value: numbers in numeric order, then what is not a number."""
    try:
        return (0, int(value))
    except ValueError:
        return (1, 0)


@dataclass
class _Group:
    """One series as listed: its patient, study and series keys, and its instances."""

    keys: list[Dataset | None]
    leaves: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Listing:
    """The tree and how its instances were found."""

    patients: list[dict[str, Any]]
    found_by: dict[str, int]


def _no_parent(rec: Record) -> Record | None:
    return None


def _ancestry(snap: Snapshot) -> Parent:
    """A record's parent: in the tree (offsets, or record order when the parser rebuilt it),
    else, for a record the chain does not reach, the one record order implies."""
    directory = snap.directory
    assert directory is not None
    reachable, parents = directory.reachable, snap.parents
    by_file: dict[str | None, list[Record]] = {}
    for rec in directory.records:
        by_file.setdefault(rec.directory_file, []).append(rec)
    in_order: dict[int, Record] = {}
    for records in by_file.values():
        if all(id(r) in reachable for r in records):
            continue
        for rec, parent in zip(records, order_parents(records), strict=True):
            if parent >= 0 and id(rec) not in reachable:
                in_order[id(rec)] = records[parent]

    def parent_of(rec: Record) -> Record | None:
        return parents.get(id(rec)) or in_order.get(id(rec))

    return parent_of


def _levels(
    rec: Record | None, parent_of: Callable[[Record], Record | None]
) -> list[Record | None]:
    """The nearest PATIENT, STUDY and SERIES records at or above ``rec``."""
    found: list[Record | None] = [None, None, None]
    for _ in range(_MAX_CHAIN):
        if rec is None:
            break
        if rec.record_type in LEVELS and found[LEVELS.index(rec.record_type)] is None:
            found[LEVELS.index(rec.record_type)] = rec
        rec = parent_of(rec)
    return found


class _Builder:
    """Collects leaves into series groups keyed by their three levels, in the order met."""

    def __init__(self, snap: Snapshot, graph: Graph) -> None:
        self.snap, self.graph = snap, graph
        self.groups: dict[Key, _Group] = {}
        self.found_by: Counter[str] = Counter()

    def add(
        self, levels: list[Record | None], header: Dataset | None, leaf: dict[str, Any]
    ) -> None:
        """File a leaf under its level records; a level without one is keyed by the header."""
        # A level without a record is keyed by the header's UID only when no deeper level
        # has a record: the deeper record already says which group the leaf is in.
        key = tuple(
            ("record", id(r))
            if r is not None
            else ("uid", text(header, kw))
            if header is not None and all(d is None for d in levels[i + 1 :])
            else None
            for i, (r, kw) in enumerate(zip(levels, _IDS, strict=True))
        )
        group = self.groups.setdefault(
            key,  # type: ignore[arg-type]
            _Group([r.keys if r is not None else None for r in levels]),
        )
        if header is not None and None in group.keys:  # a level the DICOMDIR lacks
            group.keys = [k if k is not None else header for k in group.keys]
        group.leaves.append(leaf)
        self.found_by[leaf["found_by"]] += 1

    def rt(self, where: str, keys: Dataset | Record, uid: str, sop_class: str) -> Any:
        """The leaf's ``rt`` object: the RT summary of the file (or of its record), else None."""
        node = self.graph.nodes.get(uid)
        if node is None or node.where != where:
            if (sop_class or text(keys, "SOPClassUID")) not in rt_table().kinds:
                return None  # not an RT object: no node to make (a 200k-record DICOMDIR of CT)
            ds = keys.keys if isinstance(keys, Record) else keys
            node = node_of(where, ds, uid=uid, sop_class_uid=sop_class)
        return summarise(node, self.graph) if node is not None else None


def _record_leaves(snap: Snapshot) -> Iterator[tuple[Record, str]]:
    """Records that reference an instance: the tree's in tree order, then the records the
    offset chain does not reach (inactive ones aside) in sequence order."""
    directory = snap.directory
    assert directory is not None
    in_tree = [rec for _, rec in walk_all(directory.roots)]
    cut = [r for r in directory.records if id(r) not in directory.reachable and r.in_use != 0]
    for rec in (*in_tree, *cut):
        if rec.file_id is None or rec.record_type in LEVELS or rec.children:
            continue
        facts = snap.facts_for(rec)
        if facts is not None and facts.header is not None and facts.header.is_directory:
            continue  # a lower-level directory file not followed
        if id(rec) not in directory.reachable or id(rec) in directory.ordered:
            yield rec, "sequence"
        else:
            yield rec, "offsets"


def _level_records(snap: Snapshot) -> list[dict[str, Record]]:
    """PATIENT records by Patient ID, STUDY and SERIES records by UID (the first of each)."""
    found: list[dict[str, Record]] = [{}, {}, {}]
    for rec in snap.directory.records if snap.directory is not None else ():
        if rec.record_type in LEVELS:
            i = LEVELS.index(rec.record_type)
            if value := text(rec, _IDS[i]):
                found[i].setdefault(value, rec)
    return found


def build_listing(snap: Snapshot, graph: Graph | None = None) -> Listing:
    """Every instance on the medium, found through the DICOMDIR or by scanning, in a tree."""
    graph = graph or build_graph(
        (f.file.raw, f.header.keys) for f in snap.files if f.header is not None
    )
    out = _Builder(snap, graph)
    parent_of: Parent = _no_parent
    if snap.directory is not None:
        parent_of = _ancestry(snap)
        for rec, how in _record_leaves(snap):
            facts = snap.facts_for(rec)
            head = facts.header if facts is not None else None
            header = head.keys if head is not None else None
            where = facts.file.raw if facts is not None else ""
            leaf = {
                "record_type": rec.record_type,
                "file_id": "/".join(rec.file_id or ()),
                "present": facts is not None,
                "sop_class_uid": rec.sop_class_uid,
                "sop_instance_uid": rec.sop_instance_uid,
                "instance_number": text(rec, "InstanceNumber") or text(header, "InstanceNumber"),
                "found_by": how,
                "placement": "tree",
                "rt": out.rt(
                    where,
                    header if header is not None else rec,
                    rec.sop_instance_uid or "",
                    rec.sop_class_uid or "",
                ),
            }
            out.add(_levels(rec, parent_of), header, leaf)
    referenced = {r.file.parts for r in snap.resolutions.values() if r.file is not None}
    by_id = _level_records(snap)
    for facts in snap.files:
        h = facts.header
        if h is None or h.is_directory or facts.file.parts in referenced:
            continue
        # The deepest level the DICOMDIR has a record for, and that record's ancestors
        ids = [text(h.keys, kw) for kw in _IDS]
        levels: list[Record | None] = [None, None, None]
        for i in (2, 1, 0):
            if (matched := by_id[i].get(ids[i])) is not None:
                above = _levels(matched, parent_of)
                levels = [r if j <= i else None for j, r in enumerate(above)]
                break
        leaf = {
            "record_type": record_type_for(h.sop_class_uid),
            "file_id": "/".join(facts.file.parts),
            "present": True,
            "sop_class_uid": h.sop_class_uid,
            "sop_instance_uid": h.sop_instance_uid,
            "instance_number": text(h.keys, "InstanceNumber"),
            "found_by": "scan",
            "placement": "uids",
            "rt": out.rt(facts.file.raw, h.keys, h.sop_instance_uid, h.sop_class_uid),
        }
        out.add(levels, h.keys, leaf)
    return Listing(_nest(out.groups), {k: out.found_by[k] for k in FOUND_BY})


def _nest(groups: dict[Key, _Group]) -> list[dict[str, Any]]:
    """Patient > study > series documents; series by Series Number, instances by Instance
    Number, numerically (what is not a number after, in the order met)."""
    # Keys of a level without a record: the first group that has them (a header) gives them
    patients: dict[Hashable, tuple[list[Dataset | None], dict[Hashable, _Study]]] = {}
    for (p, s, _), group in groups.items():
        patient = patients.setdefault(p, ([group.keys[0]], {}))
        patient[0][0] = patient[0][0] if patient[0][0] is not None else group.keys[0]
        study = patient[1].setdefault(s, ([group.keys[1]], []))
        study[0][0] = study[0][0] if study[0][0] is not None else group.keys[1]
        study[1].append(group)
    docs = []
    for (p_keys,), studies in patients.values():
        study_docs = []
        for (s_keys,), series in studies.values():
            ordered = sorted(series, key=lambda g: _number(text(g.keys[2], "SeriesNumber")))
            study_docs.append(_study_doc(s_keys, [_series_doc(g) for g in ordered]))
        docs.append(_patient_doc(p_keys, study_docs))
    return docs


def _patient_doc(ds: Dataset | None, studies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "patient_id": text(ds, "PatientID"),
        "patient_name": text(ds, "PatientName"),
        "studies": studies,
    }


def _study_doc(ds: Dataset | None, series: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "study_instance_uid": text(ds, "StudyInstanceUID"),
        "study_date": text(ds, "StudyDate"),
        "study_id": text(ds, "StudyID"),
        "description": text(ds, "StudyDescription"),
        "series": series,
    }


def _series_doc(group: _Group) -> dict[str, Any]:
    ds = group.keys[2] if group.keys[2] is not None else Dataset()
    leaves = sorted(group.leaves, key=lambda leaf: _number(leaf["instance_number"]))
    return {
        "series_instance_uid": text(ds, "SeriesInstanceUID"),
        "modality": text(ds, "Modality"),
        "series_number": text(ds, "SeriesNumber"),
        "count": len(leaves),
        "instances": leaves,
    }
