"""The reference graph of the RT objects on a medium or in a build, from headers only.

:func:`build_graph` takes ``(where, header)`` pairs (pydicom Datasets holding
the attributes of :data:`KEYWORDS`, as ``part10.read_header`` returns them) and
returns a :class:`Graph`: one :class:`Node` per SOP Instance UID, and for each
RT object the :class:`Ref` s it makes, found by the table of
``profiles/rt_objects.toml``. Pure: no I/O, no findings; the R rules in
``check/rt.py`` judge the graph. Pixel data and dose grids are never needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from pydicom.dataset import Dataset

from mediakit.rt import values as v
from mediakit.rt.table import ReferenceRule, rt_table

PLANS: Final = frozenset({"RT PLAN", "RT ION PLAN"})
RECORDS: Final = frozenset(
    {
        "RT BEAMS TREATMENT RECORD",
        "RT ION BEAMS TREATMENT RECORD",
        "RT BRACHY TREATMENT RECORD",
        "RT TREATMENT SUMMARY RECORD",
    }
)
REGISTRATIONS: Final = frozenset({"SPATIAL REGISTRATION", "DEFORMABLE SPATIAL REGISTRATION"})
# Roles that build --with-references follows from what the user named.
NEEDED: Final = frozenset({"structure set", "image", "image series", "plan", "dose"})


@dataclass(frozen=True, slots=True)
class Ref:
    """One reference an RT object makes: to an instance, or (``image series``) to a series."""

    role: str
    uid: str  # Referenced SOP Instance UID, or the Series Instance UID of a series reference
    sop_class_uid: str  # Referenced SOP Class UID as written ('' for a series)
    attribute: str  # the path followed, e.g. "ReferencedStructureSetSequence"
    frame: str  # Frame of Reference it is listed under ('' if none)
    series: str  # series it is listed under ('' if none)
    ref: str  # clause of the standard
    expects: frozenset[str]  # kinds the target must be (empty: any)

    @property
    def is_series(self) -> bool:
        """A reference to a whole series rather than to one instance."""
        return self.role == "image series"


@dataclass(frozen=True)
class Node:
    """One instance: where it is, what it is, which frames it is in, what it references."""

    where: str  # File ID on a medium, or the input's label in a build
    uid: str
    sop_class_uid: str
    kind: str | None  # RT kind from the table; None for images and other objects
    patient_id: str
    series_uid: str
    frame: str  # its own Frame of Reference UID (0020,0052), '' if none
    frames: frozenset[str]  # every Frame of Reference it lives in or joins
    refs: tuple[Ref, ...]
    ds: Dataset = field(repr=False, compare=False)


@dataclass(frozen=True)
class Graph:
    """Every instance by SOP Instance UID, series membership, and who references whom."""

    nodes: Mapping[str, Node]
    series: Mapping[str, tuple[str, ...]]  # Series Instance UID -> instance UIDs
    referrers: Mapping[str, tuple[tuple[Node, Ref], ...]]  # target UID -> (source, reference)

    def rt_nodes(self) -> list[Node]:
        """The RT objects, in a stable order (by location, then UID)."""
        return sorted((n for n in self.nodes.values() if n.kind), key=lambda n: (n.where, n.uid))

    def target(self, ref: Ref) -> Node | None:
        """The instance a reference leads to, when it is here (None for series references)."""
        return None if ref.is_series else self.nodes.get(ref.uid)

    def present(self, ref: Ref) -> bool:
        """Whether what a reference names is here (a series: at least one of its instances)."""
        return ref.uid in self.series if ref.is_series else ref.uid in self.nodes


def _refs(ds: Dataset, rules: Iterable[ReferenceRule]) -> tuple[Ref, ...]:
    out: list[Ref] = []
    for rule in rules:
        for item, outer in v.walk(ds, rule.path):
            uid = v.text(item, rule.target)
            if not uid:
                continue
            series_ref = rule.target == "SeriesInstanceUID"
            out.append(
                Ref(
                    role=rule.role,
                    uid=uid,
                    sop_class_uid="" if series_ref else v.text(item, "ReferencedSOPClassUID"),
                    attribute=">".join(rule.path),
                    frame=v.nearest(outer, rule.frame) if rule.frame else "",
                    series=uid if series_ref else v.nearest(outer, rule.series),
                    ref=rule.ref,
                    expects=rule.expects,
                )
            )
    return tuple(dict.fromkeys(out))  # the same reference listed twice counts once


def _frames(ds: Dataset, kind: str | None) -> frozenset[str]:
    found = {v.text(ds, "FrameOfReferenceUID")}
    for path in rt_table().frames.get(kind or "", ()):
        if len(path) == 1:
            found.add(v.text(ds, path[0]))
            continue
        found.update(v.text(item, path[-1]) for item, _ in v.walk(ds, path[:-1]))
    found.discard("")
    return frozenset(found)


def node_of(
    where: str, ds: Dataset, *, uid: str | None = None, sop_class_uid: str | None = None
) -> Node | None:
    """The node for one header (None without a SOP Instance UID).

    ``uid`` and ``sop_class_uid`` stand in for the dataset's own, e.g. for a
    directory record, which names its file's UIDs in Referenced ... in File.
    """
    uid = uid or v.text(ds, "SOPInstanceUID")
    if not uid:
        return None
    table = rt_table()
    sop_class = sop_class_uid or v.text(ds, "SOPClassUID")
    kind = table.kinds.get(sop_class)
    rules = [r for r in table.references if kind in r.kinds] if kind else []
    return Node(
        where=where,
        uid=uid,
        sop_class_uid=sop_class,
        kind=kind,
        patient_id=v.text(ds, "PatientID"),
        series_uid=v.text(ds, "SeriesInstanceUID"),
        frame=v.text(ds, "FrameOfReferenceUID"),
        frames=_frames(ds, kind),
        refs=_refs(ds, rules),
        ds=ds,
    )


def build_graph(headers: Iterable[tuple[str, Dataset]]) -> Graph:
    """The graph of every instance given; the first of two instances with one UID wins."""
    nodes: dict[str, Node] = {}
    for where, ds in headers:
        node = node_of(where, ds)
        if node is not None and node.uid not in nodes:
            nodes[node.uid] = node
    series: dict[str, list[str]] = defaultdict(list)
    referrers: dict[str, list[tuple[Node, Ref]]] = defaultdict(list)
    for node in nodes.values():
        if node.series_uid:
            series[node.series_uid].append(node.uid)
        for ref in node.refs:
            referrers[ref.uid].append((node, ref))
    return Graph(
        nodes=MappingProxyType(nodes),
        series=MappingProxyType({k: tuple(u) for k, u in series.items()}),
        referrers=MappingProxyType({k: tuple(r) for k, r in referrers.items()}),
    )


def with_references(graph: Graph, selected: Collection[str]) -> frozenset[str]:
    """What a medium needs so that the ``selected`` instances can be used where it arrives.

    From each selected instance, follow (transitively) its references of the
    roles in :data:`NEEDED`: structure set, image (the whole series it belongs
    to), image series, plan and dose; and add every RT Dose that references a
    plan so reached. Treatment records, registrations, RT Images and related
    plans are not pulled in: they are history, not what a plan needs.
    Returns SOP Instance UIDs; references to what is not in ``graph`` stay
    unresolved (the R rules report them).
    """
    keep: set[str] = set()
    queue = [u for u in selected if u in graph.nodes]
    while queue:
        uid = queue.pop()
        if uid in keep:
            continue
        keep.add(uid)
        node = graph.nodes[uid]
        for ref in node.refs:
            if ref.role not in NEEDED:
                continue
            if ref.is_series:
                queue.extend(graph.series.get(ref.uid, ()))
                continue
            target = graph.nodes.get(ref.uid)
            if target is None:
                continue
            queue.append(target.uid)
            if ref.role == "image":
                queue.extend(graph.series.get(target.series_uid, ()))
        if node.kind in PLANS:
            queue.extend(
                src.uid
                for src, ref in graph.referrers.get(uid, ())
                if src.kind == "RT DOSE" and ref.role == "plan"
            )
    return frozenset(keep)
