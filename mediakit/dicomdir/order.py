"""The directory tree that record order and record types imply, when offsets cannot say.

PS3.3 F.3.2.2 places records by offsets; a DICOMDIR whose offsets are all zero
(dcdirmk ``-dirrecorder``, the Philips media in dcm_qa_ct) or whose chain is
cut (a broken next or lower-level offset) still lists its records in sequence
order, and writers emit them depth first: PATIENT, its STUDYs, each with its
SERIES and their instances. The parser rebuilds a whole tree this way (D123);
``ls`` places records the offset chain cannot reach the same way (D126).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from mediakit.dicomdir.model import Record
from mediakit.profiles import allowed_children, is_root_record_type


@cache
def _ranks() -> dict[str, float]:
    """Level of each record type below the root (PS3.3 Table F.4-1); PRIVATE has none."""
    ranks: dict[str, float] = {}
    for level, parent in enumerate(("PATIENT", "STUDY", "SERIES"), 1):
        for rtype in allowed_children(parent) or ():
            ranks.setdefault(rtype, float(level))
    ranks.pop("PRIVATE", None)
    return ranks


def order_parents(records: Sequence[Record]) -> list[int]:
    """For each record, the index of its parent in the order-implied tree (-1: a root).

    PATIENT > STUDY > SERIES > leaf. Root-level types start a new root; a PRIVATE or
    unknown record that references a file is a leaf, one that does not nests below
    the current record, and the records after it nest below it until a known level
    closes it. Linear in the number of records.
    """
    parents: list[int] = []
    stack: list[tuple[float, int]] = []  # open records and their levels
    for i, rec in enumerate(records):
        rtype = rec.record_type
        rank = 0.0 if rtype != "PRIVATE" and is_root_record_type(rtype) else _ranks().get(rtype)
        if rank is None and rec.file_id is not None:
            rank = 3.0
        elif rank is None:
            while stack and stack[-1][0] >= 3.0:
                stack.pop()
            top = stack[-1][0] if stack else -1.0
            rank = (top + int(top) + 1.0) / 2.0 if top >= 0 else 0.5
        while stack and stack[-1][0] >= rank:
            stack.pop()
        parents.append(stack[-1][1] if stack else -1)
        # PALETTE, HANGING PROTOCOL... are root records without STUDY/SERIES below them
        stack.append((3.0 if rank == 0 and rtype != "PATIENT" else rank, i))
    return parents


def from_order(records: list[Record]) -> list[Record]:
    """The root records of the order-implied tree, with ``children`` filled in."""
    roots: list[Record] = []
    for rec, parent in zip(records, order_parents(records), strict=True):
        (records[parent].children if parent >= 0 else roots).append(rec)
    return roots
