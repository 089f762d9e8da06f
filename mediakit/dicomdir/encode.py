"""Write a DICOMDIR: a Part 10 file holding the Basic Directory IOD (PS3.3 Annex F).

The DICOMDIR is always Explicit VR Little Endian (PS3.10 §7.1; PS3.11 D.3.2).
Records are written depth first (a record, its lower-level entity, then its
next sibling), as DCMTK and pydicom do. An offset (PS3.3 F.3.2.2) is the file
position of the first byte of the record's Item tag (FFFE,E000), counted from
the first preamble byte (media-facts §3: pydicom and DCMTK agree).

Linear time: every item is encoded once. The group 0004 part of an item is
packed here and has a fixed size whatever the offset values (UL), so every
item's length, and by a prefix sum every item's position, is known before any
offset is written; the offsets are then filled in as the items are joined.
Keys with plain values are encoded by a fast path that follows pydicom's
writers; anything else (sequences, raw elements, bulk data) goes through
:func:`pydicom.filewriter.write_dataset`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, Final

from pydicom.charset import convert_encodings, default_encoding, encode_string
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

from mediakit import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from mediakit.dicomdir.model import IN_USE, MEDIA_STORAGE_DIRECTORY, Record
from mediakit.errors import InputError, InternalError

EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1"
_ITEM: Final = b"\xfe\xff\x00\xe0"  # (FFFE,E000) little endian
_SEQ_DELIMITER: Final = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  # (FFFE,E0DD), length 0
_LONG_VRS: Final = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
# The pydicom writer each VR uses, for the fast path (pydicom.filewriter.writers).
_STRING_VRS: Final = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UR", "UI"})
_TEXT_VRS: Final = frozenset({"LO", "LT", "SH", "ST", "UC", "UT"})
_NUMBER_VRS: Final = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d"}
_UL: Final = struct.Struct("<L")


def _element(group: int, elem: int, vr: str, value: bytes) -> bytes:
    """One Explicit VR Little Endian element (value already padded to even length)."""
    if vr in _LONG_VRS:
        return struct.pack("<HH2sHL", group, elem, vr.encode(), 0, len(value)) + value
    if len(value) > 0xFFFF:
        raise InputError(f"DICOMDIR: ({group:04X},{elem:04X}) {vr} value too long to encode")
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(value)) + value


def _text(value: str, what: str, pad: bytes = b" ") -> bytes:
    """An ASCII string value, padded to even length (PS3.5 §6.2)."""
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError:
        raise InputError(f"DICOMDIR: {what} {value!r} is not ASCII") from None
    return raw + pad if len(raw) % 2 else raw


def _multi(values: Iterable[str], what: str) -> str:
    """Values joined into a multi-valued string; a backslash inside one would split it."""
    values = [str(v) for v in values]
    if any("\\" in v for v in values):
        raise InputError(f"DICOMDIR: {what} {values!r} has a backslash inside a value")
    return "\\".join(values)


def _meta(fileset_uid: str) -> bytes:
    """Preamble, 'DICM' and the File Meta Information (PS3.10 §7.1), always ELE."""
    body = b"".join(
        (
            _element(0x0002, 0x0001, "OB", b"\x00\x01"),
            _element(0x0002, 0x0002, "UI", _text(MEDIA_STORAGE_DIRECTORY, "SOP Class", b"\0")),
            _element(0x0002, 0x0003, "UI", _text(fileset_uid, "File-set UID", b"\0")),
            _element(0x0002, 0x0010, "UI", _text(EXPLICIT_VR_LITTLE_ENDIAN, "TS", b"\0")),
            _element(0x0002, 0x0012, "UI", _text(IMPLEMENTATION_CLASS_UID, "UID", b"\0")),
            _element(0x0002, 0x0013, "SH", _text(IMPLEMENTATION_VERSION_NAME, "name")),
        )
    )
    return bytes(128) + b"DICM" + _element(0x0002, 0x0000, "UL", _UL.pack(len(body))) + body


def _is_multi(value: Any) -> bool:
    return isinstance(value, MultiValue | list | tuple)


def _fast_value(elem: DataElement, encodings: tuple[str, ...]) -> bytes | None:
    """The encoded value as pydicom's writer would make it, or None when not a plain value."""
    vr, value = elem.VR, elem.value
    if type(value) is str:  # the usual case: one string value
        items: list[Any] = [value]
    elif value is None or (
        isinstance(value, str | bytes | list | tuple | MultiValue) and not value
    ):
        return b""
    else:
        items = list(value) if _is_multi(value) else [value]
    if vr in _STRING_VRS or vr in _TEXT_VRS:
        if not all(isinstance(v, str) for v in items):
            return None
        if vr in _STRING_VRS:
            out = "\\".join(items).encode(default_encoding)
        else:
            out = b"\\".join(encode_string(v, encodings) for v in items)
        return out + (b"\0" if vr == "UI" else b" ") if len(out) % 2 else out
    if vr == "PN":
        if not all(isinstance(v, PersonName) for v in items):
            return None
        out = b"\\".join(v.encode(encodings) for v in items)
        return out + b" " if len(out) % 2 else out
    if vr in ("IS", "DS"):
        text = "\\".join(
            v.original_string if hasattr(v, "original_string") else str(v) for v in items
        )
        return (text + " " if len(text) % 2 else text).encode(default_encoding)
    fmt = _NUMBER_VRS.get(vr)
    if fmt is not None and all(isinstance(v, int | float) for v in items):
        try:
            return struct.pack(f"<{len(items)}{fmt}", *items)
        except struct.error:
            return None  # out of range: pydicom's writer reports it
    return None


def encode_keys(keys: Dataset) -> bytes:
    """Encode a record's keys as Explicit VR Little Endian elements, in ascending tag order.

    Parameters
    ----------
    keys : Dataset
        The record's key attributes; never group 0002 or 0004 elements.

    Returns
    -------
    bytes
        The elements, as they follow the group 0004 elements in the record's item.

    Raises
    ------
    InternalError
        If ``keys`` holds File Meta or directory (group 0002/0004) elements.
    """
    charset = keys.get_item(0x00080005)
    if charset is not None and not isinstance(charset, DataElement):
        return _pydicom_keys(keys)
    value = charset.value if charset is not None else None
    encodings = _encodings(tuple(value) if _is_multi(value) else (value or default_encoding,))
    out: list[bytes] = []
    for elem in keys.elements():  # ascending tag order, unconverted
        tag = elem.tag
        if tag >> 16 <= 0x0004:
            raise InternalError(f"record keys hold {tag}: group 0002/0004 belongs to the encoder")
        if not tag & 0xFFFF:  # group length: retired outside group 0002 (PS3.5 §7.2)
            continue
        if not isinstance(elem, DataElement) or len(elem.VR) != 2:
            return _pydicom_keys(keys)
        encoded = _fast_value(elem, encodings)
        if encoded is None or (len(encoded) > 0xFFFF and elem.VR not in _LONG_VRS):
            return _pydicom_keys(keys)
        out.append(_element(tag >> 16, tag & 0xFFFF, elem.VR, encoded))
    return b"".join(out)


@lru_cache(maxsize=64)
def _encodings(charset: tuple[str, ...]) -> tuple[str, ...]:
    """Python codecs for a Specific Character Set value, as pydicom's writer chooses them."""
    return tuple(convert_encodings(list(charset)))


def _pydicom_keys(keys: Dataset) -> bytes:
    """The general path: pydicom encodes the keys (sequences, raw elements, bulk data)."""
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    write_dataset(fp, keys)
    return fp.getvalue()


# Item tag and length, then (0004,1400) UL, (0004,1410) US, (0004,1420) UL: the only part of
# an item that depends on offsets, packed once they are known. Its size never changes:
# 8 bytes of item header, then _HEAD_SIZE bytes that count in the item's length.
_HEAD: Final = struct.Struct("<HHLHH2sHLHH2sHHHH2sHL")
_HEAD_SIZE: Final = 34


def _head(length: int, next_offset: int, lower_offset: int) -> bytes:
    """Item header and the offset elements of a record (PS3.3 Table F.3-3)."""
    return _HEAD.pack(
        0xFFFE, 0xE000, length,
        0x0004, 0x1400, b"UL", 4, next_offset,
        0x0004, 0x1410, b"US", 2, IN_USE,
        0x0004, 0x1420, b"UL", 4, lower_offset,
    )  # fmt: skip


def _tail(rec: Record) -> bytes:
    """The group 0004 elements after the offsets, ascending (PS3.3 Table F.3-3)."""
    parts = [_element(0x0004, 0x1430, "CS", _text(rec.record_type, "Directory Record Type"))]
    if rec.private_record_uid is not None:
        parts.append(_element(0x0004, 0x1432, "UI", _text(rec.private_record_uid, "UID", b"\0")))
    if rec.file_id is not None:
        file_id = _multi(rec.file_id, "Referenced File ID")
        parts.append(_element(0x0004, 0x1500, "CS", _text(file_id, "Referenced File ID")))
    for elem, value in (
        (0x1510, rec.sop_class_uid),
        (0x1511, rec.sop_instance_uid),
        (0x1512, rec.transfer_syntax),
    ):
        if value is not None:
            parts.append(_element(0x0004, elem, "UI", _text(value, "UID", b"\0")))
    if rec.related_general_sop_class:
        related = _multi(rec.related_general_sop_class, "Related General SOP Class UID")
        parts.append(_element(0x0004, 0x151A, "UI", _text(related, "UID", b"\0")))
    return b"".join(parts)


def _depth_first(roots: Sequence[Record]) -> list[tuple[Record, Record | None]]:
    """Every record with its next sibling, in writing order; iterative, each record once."""
    order: list[tuple[Record, Record | None]] = []
    seen: set[int] = set()
    stack: list[Sequence[Record]] = [roots]
    index: list[int] = [0]
    while stack:
        entity, i = stack[-1], index[-1]
        if i == len(entity):
            stack.pop()
            index.pop()
            continue
        rec = entity[i]
        index[-1] = i + 1
        if id(rec) in seen:
            raise InternalError(f"{rec.record_type} record appears twice in the directory tree")
        seen.add(id(rec))
        order.append((rec, entity[i + 1] if i + 1 < len(entity) else None))
        if rec.children:
            stack.append(rec.children)
            index.append(0)
    return order


def encode_dicomdir(
    roots: Sequence[Record],
    *,
    fileset_id: str,
    fileset_uid: str,
    descriptor_file_id: tuple[str, ...] | None = None,
    descriptor_charset: str | None = None,
) -> bytes:
    """Encode a directory tree as a complete DICOMDIR file.

    Parameters
    ----------
    roots : sequence of Record
        The root directory entity (PATIENT records, and root-level types such as
        PALETTE), each with its lower-level entity in ``children``, recursively.
    fileset_id : str
        File-set ID (0004,1130), 0-16 characters (PS3.10 §8.2); "" for none.
    fileset_uid : str
        File-set UID, written as Media Storage SOP Instance UID (0002,0003).
    descriptor_file_id : tuple of str, optional
        File ID of the File-set Descriptor File (0004,1141), one component per value.
    descriptor_charset : str, optional
        Its Specific Character Set (0004,1142).

    Returns
    -------
    bytes
        Preamble, 'DICM', File Meta Information and the Basic Directory IOD in
        Explicit VR Little Endian, records depth first.

    Raises
    ------
    InputError
        If a value cannot be encoded (not ASCII, a backslash inside a File ID
        component, a value too long) or the DICOMDIR would exceed 4 GiB.
    InternalError
        If a record appears twice in the tree, or its keys hold group 0004 elements.
    """
    order = _depth_first(roots)
    # Each item's length first: it does not depend on the offset values.
    bodies = [_tail(rec) + encode_keys(rec.keys) for rec, _ in order]

    meta = _meta(fileset_uid)
    header = [_element(0x0004, 0x1130, "CS", _text(fileset_id, "File-set ID"))]
    if descriptor_file_id is not None:
        descriptor = _multi(descriptor_file_id, "Descriptor File ID")
        header.append(_element(0x0004, 0x1141, "CS", _text(descriptor, "Descriptor File ID")))
    if descriptor_charset is not None:
        charset = _text(descriptor_charset, "Descriptor character set")
        header.append(_element(0x0004, 0x1142, "CS", charset))
    # (0004,1200) UL, (0004,1202) UL, (0004,1212) US, (0004,1220) SQ header: 12 + 12 + 10 + 12
    position = len(meta) + sum(len(h) for h in header) + 46
    where: dict[int, int] = {}
    for (rec, _), body in zip(order, bodies, strict=True):
        where[id(rec)] = position
        position += 8 + _HEAD_SIZE + len(body)
    if position + len(_SEQ_DELIMITER) > 0xFFFFFFFF:
        raise InputError(f"DICOMDIR: {len(order)} records need more than 4 GiB; split the medium")

    first = where[id(roots[0])] if roots else 0
    last = where[id(roots[-1])] if roots else 0
    out = [meta, *header]
    out.append(_element(0x0004, 0x1200, "UL", _UL.pack(first)))
    out.append(_element(0x0004, 0x1202, "UL", _UL.pack(last)))
    out.append(_element(0x0004, 0x1212, "US", struct.pack("<H", 0)))
    out.append(struct.pack("<HH2sHL", 0x0004, 0x1220, b"SQ", 0, 0xFFFFFFFF))
    for (rec, nxt), body in zip(order, bodies, strict=True):
        lower = where[id(rec.children[0])] if rec.children else 0
        after = where[id(nxt)] if nxt is not None else 0
        out.extend((_head(_HEAD_SIZE + len(body), after, lower), body))
    out.append(_SEQ_DELIMITER)
    data = b"".join(out)
    # The offsets were computed before the bytes existed: check every one lands on an Item tag.
    if len(data) != position + len(_SEQ_DELIMITER) or any(
        data[at : at + 4] != _ITEM for at in where.values()
    ):
        raise InternalError("DICOMDIR layout does not match the computed record offsets")
    return data
