"""The directory record model shared by the layout, the encoder and the parser.

A DICOMDIR (PS3.3 Annex F) is a tree of directory records: each directory
entity is a chain of records, and a record may point down to a lower-level
entity. Here the tree is explicit (``children``); byte offsets exist only in
the encoded form, and on parsed records as ``offset`` (where the record's Item
tag starts in the file, PS3.3 F.3.2.2).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from mediakit.part10 import MEDIA_STORAGE_DIRECTORY

__all__ = ["IN_USE", "MEDIA_STORAGE_DIRECTORY", "Record", "walk_all"]

IN_USE = 0xFFFF  # Record In-use Flag (0004,1410): write FFFFH, never 0000H


@dataclass(eq=False, slots=True)
class Record:
    """One directory record.

    ``keys`` holds the record's key attributes (Patient ID, Study Date, ...), never
    the group 0004 housekeeping elements: those are derived from the other fields
    when encoding, and parsed into them when reading.
    """

    record_type: str
    keys: Dataset = field(default_factory=Dataset)
    file_id: tuple[str, ...] | None = None  # (0004,1500), one component per value
    sop_class_uid: str | None = None  # (0004,1510)
    sop_instance_uid: str | None = None  # (0004,1511)
    transfer_syntax: str | None = None  # (0004,1512)
    related_general_sop_class: tuple[str, ...] = ()  # (0004,151A)
    private_record_uid: str | None = None  # (0004,1432), PRIVATE records only
    children: list[Record] = field(default_factory=list)
    # Set by the parser only:
    offset: int | None = None  # file position of this record's Item tag
    in_use: int = IN_USE
    directory_file: str | None = None  # a vendor's lower-level directory file it came from
    damaged: bool = False  # its item was cut short (D102): keys or UIDs may be missing

    def walk(self) -> Iterator[tuple[int, Record]]:
        """This record and everything below it, depth first, with depth (0 = self). Iterative."""
        stack: list[tuple[int, Record]] = [(0, self)]
        while stack:
            depth, rec = stack.pop()
            yield depth, rec
            stack.extend((depth + 1, c) for c in reversed(rec.children))


def walk_all(roots: list[Record]) -> Iterator[tuple[int, Record]]:
    """Every record of a tree given by its root entity, depth first, in chain order."""
    for root in roots:
        yield from root.walk()
