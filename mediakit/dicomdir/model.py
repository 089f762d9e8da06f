"""The directory record model shared by the layout, the encoder and the parser.

A DICOMDIR (PS3.3 Annex F) is a tree of directory records: each directory
entity is a chain of records, and a record may point down to a lower-level
entity. Here the tree is explicit (``children``); byte offsets exist only in
the encoded form, and on parsed records as ``offset`` (where the record's Item
tag starts in the file, PS3.3 F.3.2.2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from mediakit.part10 import MEDIA_STORAGE_DIRECTORY

__all__ = ["IN_USE", "MEDIA_STORAGE_DIRECTORY", "Record", "walk_all"]

IN_USE = 0xFFFF  # Record In-use Flag (0004,1410): write FFFFH, never 0000H


# A record's key elements as read; its Dataset, when made, holds this very dict (Record.keys)
Elements = dict[BaseTag, DataElement | RawDataElement]


class Record:
    """One directory record.

    ``keys`` holds the record's key attributes (Patient ID, Study Date, ...), never
    the group 0004 housekeeping elements: those are derived from the other fields
    when encoding, and parsed into them when reading.

    The parser gives ``elements`` and ``make_keys`` instead of ``keys``: the Dataset
    is made on first use of :attr:`keys`, and :meth:`get_item` reads an element
    without it. ``check``, ``ls`` and ``import`` read the keys of leaf records by tag,
    so a 200,000-record DICOMDIR makes 26 Datasets, not 200,026 (benchmarks/bounds.md).
    """

    __slots__ = (
        "_elements",
        "_keys",
        "_make_keys",
        "children",
        "damaged",
        "directory_file",
        "file_id",
        "in_use",
        "offset",
        "private_record_uid",
        "record_type",
        "related_general_sop_class",
        "sop_class_uid",
        "sop_instance_uid",
        "transfer_syntax",
    )

    def __init__(
        self,
        record_type: str,
        keys: Dataset | None = None,
        *,
        file_id: tuple[str, ...] | None = None,  # (0004,1500), one component per value
        sop_class_uid: str | None = None,  # (0004,1510)
        sop_instance_uid: str | None = None,  # (0004,1511)
        transfer_syntax: str | None = None,  # (0004,1512)
        related_general_sop_class: tuple[str, ...] = (),  # (0004,151A)
        private_record_uid: str | None = None,  # (0004,1432), PRIVATE records only
        children: list[Record] | None = None,
        # Set by the parser only:
        elements: Elements | None = None,  # the keys as read, with make_keys
        make_keys: Callable[[Elements], Dataset] | None = None,
        offset: int | None = None,  # file position of this record's Item tag
        in_use: int = IN_USE,
        directory_file: str | None = None,  # a vendor's lower-level directory file it came from
        damaged: bool = False,  # its item was cut short (D102): keys or UIDs may be missing
    ) -> None:
        if keys is None and (elements is None) != (make_keys is None):
            raise TypeError("Record: elements and make_keys come together")
        self.record_type = record_type
        self._keys = keys if keys is not None or elements is not None else Dataset()
        self._elements, self._make_keys = elements, make_keys
        self.file_id = file_id
        self.sop_class_uid = sop_class_uid
        self.sop_instance_uid = sop_instance_uid
        self.transfer_syntax = transfer_syntax
        self.related_general_sop_class = related_general_sop_class
        self.private_record_uid = private_record_uid
        self.children: list[Record] = [] if children is None else children
        self.offset = offset
        self.in_use = in_use
        self.directory_file = directory_file
        self.damaged = damaged

    @property
    def keys(self) -> Dataset:
        """The key attributes as a Dataset (made from the elements read on first use)."""
        if self._keys is None:
            assert self._elements is not None and self._make_keys is not None
            self._keys = self._make_keys(self._elements)
        return self._keys

    @keys.setter
    def keys(self, value: Dataset) -> None:
        self._keys, self._elements, self._make_keys = value, None, None

    def get_item(self, tag: int) -> DataElement | RawDataElement | None:
        """The key element for ``tag`` as :meth:`Dataset.get_item` gives it (raw while not
        decoded), None when absent, without making the Dataset."""
        if self._keys is not None:
            return self._keys.get_item(BaseTag(tag))
        assert self._elements is not None
        return self._elements.get(BaseTag(tag))

    def __repr__(self) -> str:
        return (
            f"Record({self.record_type!r}, file_id={self.file_id!r}, "
            f"sop_instance_uid={self.sop_instance_uid!r}, offset={self.offset!r}, "
            f"children={len(self.children)})"
        )

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
