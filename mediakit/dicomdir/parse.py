"""Read any vendor's DICOMDIR tolerantly: never raise, report every problem as a finding.

The bytes are framed here, not by pydicom: a small iterative scanner finds the
File Meta, the top-level elements and every item of the Directory Record
Sequence (0004,1220), checking each length against the bytes that are there.
A damaged item costs only itself (or, if its end cannot be known, the items
after it); nothing is allocated from a declared length, nothing recurses, and
the work is linear in the file size. Each record's keys become a pydicom
:class:`~pydicom.dataset.Dataset` of raw elements, decoded lazily by pydicom in
the dataset's own character set, so icon pixel data is never decoded here.

The tree is rebuilt by following the offsets (PS3.3 F.3.2.2) from each item's
start position, not the sequence order: ``DICOMDIR-reordered`` in pydicom's test
files shows why. Offsets that are all absent or zero (the Philips multi-level
media in dcm_qa_ct) give a tree rebuilt from record order and types (D123);
offsets shifted by a constant (fo-dicom #828) are snapped back (D123).
"""

from __future__ import annotations

import struct
import warnings
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Final, Literal

from pydicom.charset import convert_encodings, default_encoding
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag
from pydicom.valuerep import VR

from mediakit.dicomdir.model import IN_USE, MEDIA_STORAGE_DIRECTORY, Elements, Record
from mediakit.dicomdir.order import from_order
from mediakit.errors import InternalError
from mediakit.findings import Finding, finding
from mediakit.tags import tag_of

MAX_NESTING: Final = 32  # sequences deeper than this in a record's keys are dropped (D102)
# The parse budget (README "Limits"): a 200,000-instance DICOMDIR and its patient, study and
# series records fit; past either, a D102 says so and the rest of the sequence is not read.
RECORD_LIMIT: Final = 250_000
KEY_LIMIT: Final = 2_500_000  # key elements of all records together
ELE: Final = "1.2.840.10008.1.2.1"
_SYNTAXES: Final = {
    (False, True): (ELE, "Explicit VR Little Endian"),
    (True, True): ("1.2.840.10008.1.2", "Implicit VR Little Endian"),
    (False, False): ("1.2.840.10008.1.2.2", "Explicit VR Big Endian"),
    (True, False): ("", "Implicit VR Big Endian"),
}
_UNDEFINED: Final = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_LONG_VRS: Final = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())  # PS3.5 7.1.2
_PIXEL_DATA: Final = 0x7FE00010
_CHARSET: Final = BaseTag(0x00080005)
# Bytes per value of the binary VRs: pydicom raises on reading a value of another length
_VALUE_SIZES: Final[dict[str | None, int]] = {
    "US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "AT": 4, "FD": 8, "SV": 8, "UV": 8,
}  # fmt: skip
_KNOWN_VRS: Final = frozenset(str(vr) for vr in VR if len(vr) == 2)  # pydicom converts these
# Two capitals are an explicit VR; one pydicom does not know is read as UN (2-byte length).
_VR_NAMES: Final = {
    bytes((a, b)): vr if (vr := chr(a) + chr(b)) in _KNOWN_VRS else "UN"
    for a in range(65, 91) for b in range(65, 91)
}  # fmt: skip


# The VRs of the ordinary element (PS3.5 7.1.2, 2-byte length) pydicom knows
_SHORT_VRS: Final = {
    code: vr for code, vr in _VR_NAMES.items() if vr != "UN" and code not in _LONG_VRS
}


@dataclass(frozen=True)
class ParsedDirectory:
    """A DICOMDIR as read: its header, its records, and what was wrong with it.

    ``records`` lists every record in sequence order, reachable or not;
    ``roots`` is the root directory entity with the tree below it in
    ``children``, each record at most once. ``reachable`` holds the ``id()`` of
    every record in that tree (all of them when the tree was rebuilt from
    record order, and then ``ordered`` too); they are valid while this object
    keeps ``records`` alive.
    """

    fileset_id: str
    fileset_uid: str | None  # (0002,0003)
    media_storage_sop_class: str | None  # (0002,0002)
    transfer_syntax: str | None  # (0002,0010), or the one detected when there is no File Meta
    roots: list[Record]
    records: list[Record]
    reachable: frozenset[int]
    findings: tuple[Finding, ...]
    descriptor_file_id: tuple[str, ...] | None = None
    consistency_flag: int | None = None
    ordered: frozenset[int] = frozenset()  # ids of records placed by record order (D123)


class _Damage(Exception):
    """The bytes at ``pos`` cannot be framed (internal control flow, never escapes)."""

    def __init__(self, pos: int, why: str) -> None:
        super().__init__(why)
        self.pos = pos


@dataclass(slots=True)
class _Item:
    """One record item as framed: its group 0004 values and its keys."""

    offset: int
    group4: dict[int, bytes] = field(default_factory=dict)
    keys: dict[BaseTag, DataElement | RawDataElement] = field(default_factory=dict)
    complete: bool = True


class _Scanner:
    """Element framing of one buffer in one transfer syntax: bounds-checked and iterative."""

    def __init__(
        self, data: bytes, implicit: bool, little: bool, found: list[Finding], where: str
    ) -> None:
        self.data, self.implicit, self.little = data, implicit, little
        self.found, self.where = found, where
        self.order: Literal["little", "big"] = "little" if little else "big"
        e = "<" if little else ">"
        self._tag_len = struct.Struct(f"{e}HHL").unpack_from
        self._explicit = struct.Struct(f"{e}HH2sH").unpack_from
        self._u32 = struct.Struct(f"{e}L").unpack_from
        self.item_bytes = struct.pack(f"{e}HH", 0xFFFE, 0xE000)
        self.keys = 0  # key elements of the records read so far (KEY_LIMIT)
        self.make_keys = partial(_keys, implicit=implicit, little=little)

    def report(self, pos: int, detail: str) -> None:
        """A D102 finding for damage at pos."""
        self.found.append(finding("D102", f"{self.where}@{pos:#x}", detail))

    def header(self, pos: int, bound: int) -> tuple[int, str | None, int, int]:
        """Tag, VR (None if implicit), value length and value position of the element at pos."""
        if pos + 8 > bound:
            raise _Damage(pos, f"element header at {pos:#x} runs past {bound:#x}")
        if not self.implicit:
            group, elem, vr, length = self._explicit(self.data, pos)
            name = _VR_NAMES.get(vr)
            if name is not None and group != 0xFFFE:
                if vr not in _LONG_VRS:
                    return group << 16 | elem, name, length, pos + 8
                if pos + 12 > bound:
                    raise _Damage(pos, f"element header at {pos:#x} runs past {bound:#x}")
                return group << 16 | elem, name, self._u32(self.data, pos + 8)[0], pos + 12
        # Implicit VR, an item tag, or an implicit element in explicit data (pydicom #1067)
        group, elem, length = self._tag_len(self.data, pos)
        return group << 16 | elem, None, length, pos + 8

    def is_sequence(self, vr: str | None, length: int, pos: int) -> bool:
        """Whether a defined-length value holds items: SQ, or implicit data starting with one."""
        return vr == "SQ" or (
            vr is None and length >= 8 and self.data[pos : pos + 4] == self.item_bytes
        )

    def walk(self, pos: int, limit: int | None, fragments: bool, bound: int) -> tuple[int, int]:
        """Walk a sequence value without recursion: the position after it, its nesting depth."""
        # Open frames: (inside an item?, end or None if undefined, fragments?, bound)
        stack: list[tuple[bool, int | None, bool, int]] = [(False, limit, fragments, bound)]
        depth = deepest = 1
        while stack:
            in_item, lim, frag, bnd = stack[-1]
            if lim is not None and pos >= lim:
                if pos > lim:
                    raise _Damage(pos, f"nested data overruns its length at {pos:#x}")
                stack.pop()
                depth -= not in_item
                continue
            tag, vr, length, vpos = self.header(pos, bnd)
            end = None if length == _UNDEFINED else vpos + length
            if end is not None and end > bnd:
                raise _Damage(pos, f"value of {length} bytes at {vpos:#x} runs past {bnd:#x}")
            if tag == (_ITEM_END if in_item else _SEQ_END):
                if lim is not None and vpos != lim:
                    raise _Damage(pos, f"delimiter at {pos:#x} inside a defined length")
                pos = vpos
                stack.pop()
                depth -= not in_item
            elif in_item and tag >> 16 != 0xFFFE:
                if end is not None and not self.is_sequence(vr, length, vpos):
                    pos = end
                    continue
                nested_frag = end is None and (vr in ("OB", "OW") or tag == _PIXEL_DATA)
                stack.append((False, end, nested_frag, bnd if end is None else end))
                pos, depth = vpos, depth + 1
                deepest = max(deepest, depth)
            elif not in_item and tag == _ITEM and not frag:
                stack.append((True, end, False, bnd if end is None else end))
                pos = vpos
            elif not in_item and tag == _ITEM and end is not None:
                pos = end  # a fragment of encapsulated data
            else:
                raise _Damage(pos, f"unexpected {_tag(tag)} at {pos:#x}")
        return pos, deepest

    def element(
        self, head: tuple[int, str | None, int, int], bound: int
    ) -> tuple[str | None, int, int | None]:
        """An element's VR, value end and nesting depth (None: damaged inside or too deep)."""
        tag, vr, length, vpos = head
        if tag >> 16 == 0xFFFE:
            raise _Damage(vpos - 8, f"unexpected {_tag(tag)} at {vpos - 8:#x}")
        if length == _UNDEFINED:  # a sequence, also as UN or implicit (PS3.5 §6.2.2), or fragments
            fragments = vr in ("OB", "OW") or tag == _PIXEL_DATA
            after, deep = self.walk(vpos, None, fragments, bound)
            return vr if fragments else "SQ", after - 8, deep if deep <= MAX_NESTING else None
        end = vpos + length
        if end > bound:
            raise _Damage(vpos, f"value of {length} bytes at {vpos:#x} runs past {bound:#x}")
        if not self.is_sequence(vr, length, vpos):
            return vr, end, 0
        try:
            deep = self.walk(vpos, end, False, end)[1]
        except _Damage:
            return vr, end, None
        return vr, end, deep if deep <= MAX_NESTING else None

    def item(self, pos: int, bound: int) -> tuple[_Item, int | None]:
        """The record item at an Item tag, and the position after it (None: lost to damage)."""
        _, _, length, vpos = self.header(pos, bound)
        rec = _Item(pos)
        limit = None if length == _UNDEFINED else vpos + length
        if limit is not None and limit > bound:
            self.report(pos, f"item of {length} bytes runs past {bound:#x}")
            rec.complete, limit = False, None
        inner, p, data = bound if limit is None else limit, vpos, self.data
        group4, keys, header, sizes = rec.group4, rec.keys, self.header, _VALUE_SIZES
        implicit, little = self.implicit, self.little
        ordinary = self.ordinary if not implicit and little else None
        try:
            while limit is None or p < limit:
                if ordinary is not None and (p := ordinary(p, inner, rec)) == limit:
                    break
                tag, vr, length, start = header(p, inner)
                group, end = tag >> 16, start + length
                nesting: int | None = 0
                walked = (
                    length == _UNDEFINED or group == 0xFFFE or self.is_sequence(vr, length, start)
                )
                if walked:
                    if tag == _ITEM_END:
                        return rec, p + 8
                    vr, end, nesting = self.element((tag, vr, length, start), inner)
                elif end > inner:
                    raise _Damage(p, f"value of {length} bytes at {start:#x} runs past {inner:#x}")
                if vr == "UN" and data[p + 4 : p + 6] != b"UN":
                    self.report(pos, f"{_tag(tag)} has an unknown VR: read as UN")
                p = end + (8 if length == _UNDEFINED else 0)
                if group == 0x0004:
                    group4[tag] = data[start:end]
                elif nesting is None:
                    self.report(pos, f"{_tag(tag)} damaged or nested too deep: dropped")
                elif group > 0x0004:
                    vr = vr or _dictionary_vr(tag)  # implicit: the VR pydicom would look up
                    if (walked or vr != "SQ" or not length) and not length % sizes.get(vr, 1):
                        key = tag_of(tag)
                        keys[key] = RawDataElement(
                            key, vr, length, data[start:end], start, implicit, little
                        )
                    else:
                        self.drop(pos, tag, vr, length)
        except _Damage as exc:
            if rec.complete:
                self.report(pos, f"item damaged: {exc}")
            rec.complete = False
        return rec, limit

    def ordinary(self, p: int, inner: int, rec: _Item) -> int:
        """Frame the ordinary elements from p on in Explicit VR Little Endian (PS3.10 §8.6),
        which are nearly all of a DICOMDIR: a short-form VR pydicom knows, a value that
        fits. Where the next element is anything else, return its position for
        :meth:`item`, which frames every case (a quarter less time framing 200k records).
        """
        data, unpack, short, sizes = self.data, self._explicit, _SHORT_VRS, _VALUE_SIZES
        group4, keys = rec.group4, rec.keys
        while p + 8 <= inner:
            group, elem, code, length = unpack(data, p)
            vr = short.get(code)
            end = p + 8 + length
            if vr is None or group == 0xFFFE or end > inner:
                return p
            if group == 0x0004:
                group4[group << 16 | elem] = data[p + 8 : end]
            elif group > 0x0004:
                if length % sizes.get(vr, 1):
                    return p
                key = tag_of(group << 16 | elem)
                keys[key] = RawDataElement(key, vr, length, data[p + 8 : end], p + 8, False, True)
            p = end
        return p

    def drop(self, pos: int, tag: int, vr: str | None, length: int) -> None:
        """The D102 for a key element pydicom could not read as framed."""
        if vr == "SQ":  # pydicom would read it as items
            self.report(pos, f"{_tag(tag)}: a sequence whose value is not items: dropped")
        else:  # pydicom raises on reading it
            self.report(pos, f"{_tag(tag)}: {length} bytes, not whole values: dropped")

    def items(self, pos: int, limit: int | None, items: list[_Item]) -> int | None:
        """Read record items into ``items``: the position after them, None when lost."""
        bound = len(self.data) if limit is None else limit
        while limit is None or pos < limit:
            tag = self.header(pos, bound)[0]
            if tag == _SEQ_END:
                return pos + 8
            if tag != _ITEM:
                raise _Damage(pos, f"{_tag(tag)} at {pos:#x} where an Item should be")
            if len(items) >= RECORD_LIMIT or self.keys > KEY_LIMIT:
                what = (
                    f"{RECORD_LIMIT:,} records" if self.keys <= KEY_LIMIT else f"{KEY_LIMIT:,} keys"
                )
                self.report(pos, f"more than {what}: the rest of the DICOMDIR is not read")
                return None
            item, after = self.item(pos, bound)
            if item.complete or 0x00041430 in item.group4:
                items.append(item)
                self.keys += len(item.keys)
            if after is None:
                return None
            pos = after
        return pos

    def dataset(self, pos: int) -> tuple[dict[int, bytes], list[_Item] | None]:
        """Top-level group 0004 values and the record items (None: no (0004,1220))."""
        top: dict[int, bytes] = {}
        items: list[_Item] | None = None
        end = len(self.data)
        try:
            while pos < end:
                head = self.header(pos, end)
                tag, length, vpos = head[0], head[2], head[3]
                if tag == 0x00041220 and items is None:
                    items, limit = [], None if length == _UNDEFINED else vpos + length
                    if limit is not None and limit > end:
                        self.report(pos, f"truncated: the sequence runs past {end:#x}")
                        limit = None
                    after = self.items(vpos, limit, items)
                    if after is None:
                        break
                    pos = after
                    continue
                vend = self.element(head, end)[1]
                if tag >> 16 == 0x0004:
                    top[tag] = self.data[vpos:vend]
                pos = vend + (8 if length == _UNDEFINED else 0)
        except _Damage as exc:
            self.report(exc.pos, f"cannot be framed: {exc}")
        return top, items


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _text(raw: bytes | None) -> str:
    return raw.decode("latin-1").strip(" \0") if raw else ""


def _split(raw: bytes | None) -> tuple[str, ...] | None:
    """A CS/UI multi-value; File IDs also split on '/' (seen on real media, media-facts §8)."""
    text = _text(raw)
    if not text:
        return None
    parts = text.replace("/", "\\").split("\\")
    if " " in text or "\0" in text:  # padded values: rare, so stripped only when there
        return tuple(c.strip(" \0") for c in parts)
    return tuple(parts)


@cache
def _encodings(charset: bytes) -> tuple[str, ...] | None:
    """Python codecs for a Specific Character Set value; None if pydicom cannot use it."""
    names = [n.strip(" \0") for n in charset.decode("latin-1").split("\\")]
    try:
        return tuple(convert_encodings(names if any(names) else default_encoding))
    except (ValueError, LookupError):
        return None


@cache
def _dictionary_vr(tag: int) -> str | None:
    """The dictionary VR, UN when unknown, None when ambiguous (pydicom resolves "US or SS")."""
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return "UN"
    return vr if len(vr) == 2 else None


def _number(raw: bytes | None, size: int, order: Literal["little", "big"]) -> int | None:
    """A US (size 2) or UL (size 4) value; None when absent or too short."""
    return int.from_bytes(raw[:size], order) if raw is not None and len(raw) >= size else None


def _keys(elements: Elements, implicit: bool, little: bool) -> Dataset:
    """A record's keys as a Dataset of the raw elements, decoded in its character set
    (checked by :func:`_record`); made when first used (:attr:`Record.keys`)."""
    charset = elements.get(_CHARSET)
    value = charset.value if charset is not None else None
    if value and not isinstance(value, bytes):  # decoded already: a copy's Dataset shares it
        value = "\\".join([value] if isinstance(value, str) else value).encode("latin-1")
    encodings = _encodings(value) if value else None
    ds = Dataset(elements)
    ds.set_original_encoding(implicit, little, list(encodings or (default_encoding,)))
    return ds


def _record(item: _Item, s: _Scanner) -> tuple[Record, int, int]:
    """The model record for an item, with its next and lower-level offsets (0: none)."""
    g, order = item.group4, s.order
    charset = item.keys.get(_CHARSET)
    if charset is not None and charset.value and _encodings(charset.value) is None:
        s.report(item.offset, f"(0008,0005) {_text(charset.value)!r} unusable: dropped")
        del item.keys[_CHARSET]  # pydicom would raise on decoding any text
    rec = Record(
        record_type=_text(g.get(0x00041430)),
        elements=item.keys,
        make_keys=s.make_keys,
        file_id=_split(g.get(0x00041500)),
        sop_class_uid=_text(g.get(0x00041510)) or None,
        sop_instance_uid=_text(g.get(0x00041511)) or None,
        transfer_syntax=_text(g.get(0x00041512)) or None,
        related_general_sop_class=_split(g.get(0x0004151A)) or (),
        private_record_uid=_text(g.get(0x00041432)) or None,
        offset=item.offset,
        # Values other than 0000H read as FFFFH (PS3.3 F.3.2.2)
        in_use=0 if _number(g.get(0x00041410), 2, order) == 0 else IN_USE,
        damaged=not item.complete,
    )
    return rec, _number(g.get(0x00041400), 4, order) or 0, _number(g.get(0x00041420), 4, order) or 0


def _read_meta(data: bytes, found: list[Finding], where: str) -> tuple[dict[int, str], int]:
    """File Meta strings (always ELE, PS3.10 §7.1) and where the dataset starts."""
    pos = 132 if data[128:132] == b"DICM" else 0
    s, meta = _Scanner(data, False, True, found, where), {}
    try:
        while pos + 8 <= len(data) and data[pos : pos + 2] == b"\x02\x00":
            tag, vr, length, vpos = s.header(pos, len(data))
            if length == _UNDEFINED or vpos + length > len(data):
                raise _Damage(pos, f"element at {pos:#x} runs past the end")
            if vr in (None, "UI", "SH", "AE", "CS"):
                meta[tag] = _text(data[vpos : vpos + length])
            pos = vpos + length
    except _Damage as exc:
        found.append(finding("D102", where, f"File Meta Information: {exc}"))
        return meta, len(data)
    return meta, pos


def _syntax(data: bytes, pos: int) -> tuple[bool, bool] | None:
    """(implicit VR, little endian) of the dataset at pos, from its first element; None: none."""
    if pos + 8 > len(data):
        return None
    little = not (data[pos] == 0 and data[pos + 1] != 0)
    group = int.from_bytes(data[pos : pos + 2], "little" if little else "big")
    explicit = all(65 <= b <= 90 for b in data[pos + 4 : pos + 6])
    return (not explicit, little) if group in (0x0004, 0x0008, 0xFFFC) else None


def _snap(pointers: list[int], by_offset: dict[int, int], first: int | None) -> int:
    """A constant shift that puts every offset on a record start (fo-dicom #828), or 0.

    Candidates: the shift that puts the first root record (or the lowest offset) on
    the first item, as when the meta size changed, then the shifts that put most
    offsets on a neighbouring record start, as when a value changed size.
    """
    starts = sorted(by_offset)
    votes: Counter[int] = Counter()
    for p in pointers:
        if p not in by_offset:
            k = bisect_left(starts, p)
            votes.update(starts[j] - p for j in (k - 1, k) if 0 <= j < len(starts))
    candidates = [starts[0] - (first or min(pointers)), *(d for d, _ in votes.most_common(4))]
    for delta in candidates:
        if delta and all(p + delta in by_offset for p in pointers):
            return delta
    return 0


def _walk(
    records: list[Record], offsets: list[int], links: tuple[list[int], list[int]],
    by_offset: dict[int, int], start: int, found: list[Finding], where: str,
) -> tuple[list[Record], bytearray]:  # fmt: skip
    """Follow the offsets from the first root record: each record at most once, no recursion."""
    nxt, low = links
    roots: list[Record] = []
    visited = bytearray(len(records))
    # Entities to read: (parent or None, first record, record whose offset led there, element)
    stack: list[tuple[Record | None, int, int, str]] = [(None, start, -1, "(0004,1200)")]
    while stack:
        parent, i, origin, via = stack.pop()
        chain = roots if parent is None else parent.children
        below: list[tuple[Record | None, int, int, str]] = []
        while True:
            if visited[i]:
                source = f"{where}@{offsets[origin]:#x}" if origin >= 0 else where
                found.append(finding("D106", source, f"{via} leads back to {offsets[i]:#x}"))
                break
            visited[i] = 1
            chain.append(records[i])
            if low[i] and (j := by_offset.get(low[i])) is not None:
                below.append((records[i], j, i, "(0004,1420)"))
            elif low[i]:
                found.append(finding("D105", f"{where}@{offsets[i]:#x}", f"{low[i]:#x}"))
            if not nxt[i]:
                break
            if (j := by_offset.get(nxt[i])) is None:
                found.append(finding("D104", f"{where}@{offsets[i]:#x}", f"{nxt[i]:#x}"))
                break
            origin, i, via = i, j, "(0004,1400)"
        stack.extend(reversed(below))
    return roots, visited


def _value(offset: int | None) -> str:
    return "without a value" if offset is None else f"{offset:#x}"


def _tree(
    records: list[Record], offsets: list[int], nxt: list[int], low: list[int],
    first: int | None, last: int | None, found: list[Finding], where: str,
) -> tuple[list[Record], frozenset[int], bool]:  # fmt: skip
    """The directory tree, the ids of its records, whether it was rebuilt from record
    order; with D104-D107 and D123 findings."""
    if not records:
        if first or last:
            found.append(finding("D107", where, f"no records, but first {first}, last {last}"))
        return [], frozenset(), False
    by_offset = {o: i for i, o in enumerate(offsets)}
    pointers = [p for p in (first, last, *nxt, *low) if p]
    delta = _snap(pointers, by_offset, first) if any(p not in by_offset for p in pointers) else 0
    if delta:
        found.append(finding("D123", where, f"every offset is off by {-delta:+d} bytes: snapped"))
        first, last = (p + delta if p else p for p in (first, last))
        nxt, low = ([p + delta if p else 0 for p in ps] for ps in (nxt, low))
    wrong = []
    start = by_offset.get(first) if first else None
    if start is None:
        wrong.append(f"(0004,1200) {_value(first)} is not a record")
    chains = any(nxt) or any(low)
    if start is None and chains:  # start from the first record nothing points at
        targets = {p for p in (*nxt, *low) if p}
        start = next((i for i, o in enumerate(offsets) if o not in targets), None)
    if start is None or (not chains and len(records) > 1):
        if last not in by_offset:
            wrong.append(f"(0004,1202) {_value(last)} is not a record")
        if wrong:
            found.append(finding("D107", where, "; ".join(wrong)))
        why = "no record to start from" if chains else "no next or lower-level offsets"
        found.append(finding("D123", where, f"{why}; {len(records)} records nested by type"))
        return from_order(records), frozenset(id(r) for r in records), True
    roots, seen = _walk(records, offsets, (nxt, low), by_offset, start, found, where)
    if last != roots[-1].offset:
        wrong.append(
            f"(0004,1202) {_value(last)} is not the last root record {roots[-1].offset:#x}"
        )
    if wrong:
        found.append(finding("D107", where, "; ".join(wrong)))
    return roots, frozenset(id(r) for r, s in zip(records, seen, strict=True) if s), False


def parse_dicomdir(data: bytes, *, where: str = "DICOMDIR") -> ParsedDirectory:
    """Parse a DICOMDIR of any vendor, recovering as much as its bytes allow.

    Parameters
    ----------
    data : bytes
        The whole DICOMDIR file (the caller caps its size).
    where : str, optional
        How findings name the file, e.g. its File ID on the medium; record
        findings add ``@offset`` (the record's Item tag position, in hex).

    Returns
    -------
    ParsedDirectory
        Header values, records in sequence order, the tree, and findings:
        D102 (damage, truncation, not DICOM), D103, D104-D107, D113, D118,
        D119 and D123. A file that is not DICOM gives D102 and no records.

    Raises
    ------
    InternalError
        Only for a bug in this parser; a bad DICOMDIR is always findings.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns on odd character sets; we report
            return _parse(bytes(data), where)
    except Exception as exc:
        raise InternalError(
            f"{where}: DICOMDIR parser failed ({type(exc).__name__}: {exc}); please report this"
        ) from exc


def _parse(data: bytes, where: str) -> ParsedDirectory:
    found: list[Finding] = []
    meta, pos = _read_meta(data, found, where)
    sop_class, fileset_uid, ts = (meta.get(t) or None for t in (0x00020002, 0x00020003, 0x00020010))
    syntax = _syntax(data, pos)
    if syntax is None:
        if not found:
            what = f"no DICOMDIR dataset after the File Meta ({ts})" if meta else "not DICOM"
            found.append(finding("D102", where, what))
        return ParsedDirectory("", fileset_uid, sop_class, ts, [], [], frozenset(), tuple(found))
    if sop_class != MEDIA_STORAGE_DIRECTORY:
        found.append(finding("D103", where, sop_class or "absent: no File Meta Information"))
    uid, name = _SYNTAXES[syntax]
    if syntax != (False, True) or (ts and ts != ELE):
        found.append(finding("D113", where, name + (f"; File Meta says {ts}" if ts != uid else "")))
    s = _Scanner(data, *syntax, found, where)
    top, items = s.dataset(pos)
    if items is None and not any(f.code == "D102" for f in found):
        found.append(finding("D102", where, "(0004,1220) Directory Record Sequence absent"))
    parsed = [_record(item, s) for item in items or ()]
    records = [r for r, _, _ in parsed]
    roots, reachable, by_order = _tree(
        records, [item.offset for item in items or ()], [n for _, n, _ in parsed],
        [lo for _, _, lo in parsed], _number(top.get(0x00041200), 4, s.order),
        _number(top.get(0x00041202), 4, s.order), found, where,
    )  # fmt: skip
    flag = _number(top.get(0x00041212), 2, s.order)
    if flag:
        found.append(finding("D118", where, f"{flag:04X}H"))
    for rec in records:
        if rec.in_use == 0:
            found.append(finding("D119", f"{where}@{rec.offset:#x}", rec.record_type))
    return ParsedDirectory(
        fileset_id=_text(top.get(0x00041130)),
        fileset_uid=fileset_uid,
        media_storage_sop_class=sop_class,
        transfer_syntax=ts or uid or None,
        roots=roots,
        records=records,
        reachable=reachable,
        findings=tuple(found),
        descriptor_file_id=_split(top.get(0x00041141)),
        consistency_flag=flag,
        ordered=reachable if by_order else frozenset(),
    )
