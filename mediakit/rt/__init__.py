"""RT referential integrity: the reference graph of plans, structure sets, images and dose.

IEC TR 62266: a plan is useless at the receiving clinic without the structure
set it was planned on, the images that structure set was drawn on, and the
dose that belongs to it. This package builds, from header datasets only, the
graph of who references whom (:func:`build_graph`), the set of instances a
selection needs (:func:`with_references`) and what ``ls`` shows of each RT
object (:func:`summarise`). It judges nothing: the R rules live in
``mediakit.check.rt``. Which SOP Class is which object and which sequences to
follow is data, ``profiles/rt_objects.toml``.

Headers must carry :data:`KEYWORDS` (``part10.read_header(path, keywords=KEYWORDS)``);
pixel data and dose grids are never decoded (part10 reads headers only).
"""

from __future__ import annotations

from typing import Final

from mediakit.rt.graph import (
    NEEDED,
    PLANS,
    RECORDS,
    REGISTRATIONS,
    Graph,
    Node,
    Ref,
    build_graph,
    node_of,
    with_references,
)
from mediakit.rt.summary import SUMMARY_KEYWORDS, beam_items, summarise
from mediakit.rt.table import rt_table

_BASE: Final = (
    "SOPClassUID",
    "SOPInstanceUID",
    "PatientID",
    "SeriesInstanceUID",
    "FrameOfReferenceUID",
)

#: Every attribute the graph and the summaries read: pass it to ``part10.read_header``.
KEYWORDS: Final[tuple[str, ...]] = tuple(
    dict.fromkeys((*_BASE, *rt_table().keywords(), *SUMMARY_KEYWORDS))
)

__all__ = [
    "KEYWORDS",
    "NEEDED",
    "PLANS",
    "RECORDS",
    "REGISTRATIONS",
    "Graph",
    "Node",
    "Ref",
    "beam_items",
    "build_graph",
    "node_of",
    "summarise",
    "with_references",
]
