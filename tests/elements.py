"""Where the elements of a Part 10 file or DICOMDIR are: an element walker written for the tests.

Independent of mediakit's own parsers (so a test that aims at structure does
not inherit their blind spots): File Meta in Explicit VR Little Endian, then
the dataset in the syntax the caller names. Sequences and items are entered,
not skipped, so nested boundaries are found too; encapsulated fragments are
stepped over whole. Iterative, and it stops at the first header that does not
fit (the tests only walk files they made).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

_LONG: Final = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())
UNDEFINED: Final = 0xFFFFFFFF
ITEM: Final = 0xFFFEE000


@dataclass(frozen=True, slots=True)
class Element:
    """One element (or item, or delimiter) header as it lies in the bytes."""

    start: int  # first byte of the tag
    tag: int
    vr: bytes | None  # None for implicit VR and for item and delimiter tags
    length_at: int  # where the length field is
    length_size: int  # 2 or 4 bytes
    value_at: int  # first byte of the value
    length: int  # as declared; UNDEFINED for undefined length
    depth: int = 0  # sequences and items it lies in (0: top level of the File Meta or dataset)


def elements(data: bytes, *, implicit: bool = False, little: bool = True) -> list[Element]:
    """Every element header of a Part 10 file (or a bare dataset), nested ones included."""
    out: list[Element] = []
    pos = 132 if data[128:132] == b"DICM" else 0
    fragments_until: int | None = None  # inside encapsulated data: items are fragments
    ends: list[int | None] = []  # open sequences and items: their end, None if undefined
    while pos + 8 <= len(data):
        while ends and ends[-1] is not None and pos >= ends[-1]:
            ends.pop()
        depth = len(ends)
        meta = data[pos : pos + 2] == b"\x02\x00"
        e = "<" if (little or meta) else ">"
        group, elem = struct.unpack_from(f"{e}HH", data, pos)
        tag = group << 16 | elem
        if group == 0xFFFE:
            (length,) = struct.unpack_from(f"{e}L", data, pos + 4)
            out.append(Element(pos, tag, None, pos + 4, 4, pos + 8, length, depth))
            if tag == ITEM and fragments_until is not None and length != UNDEFINED:
                pos += 8 + length  # a fragment: its bytes are not elements
                continue
            if tag == ITEM:
                ends.append(None if length == UNDEFINED else pos + 8 + length)
            elif ends:  # an item or sequence delimiter closes the innermost undefined one
                ends.pop()
            if tag == 0xFFFEE0DD:
                fragments_until = None
            pos += 8
            continue
        if implicit and not meta:
            (length,) = struct.unpack_from(f"{e}L", data, pos + 4)
            element = Element(pos, tag, None, pos + 4, 4, pos + 8, length, depth)
        else:
            vr = data[pos + 4 : pos + 6]
            if vr in _LONG:
                if pos + 12 > len(data):
                    break
                (length,) = struct.unpack_from(f"{e}L", data, pos + 8)
                element = Element(pos, tag, vr, pos + 8, 4, pos + 12, length, depth)
            else:
                (length,) = struct.unpack_from(f"{e}H", data, pos + 6)
                element = Element(pos, tag, vr, pos + 6, 2, pos + 8, length, depth)
        out.append(element)
        sequence = element.vr == b"SQ" or (
            element.vr is None
            and length >= 8
            and struct.unpack_from(f"{e}HH", data, element.value_at) == (0xFFFE, 0xE000)
        )
        if length == UNDEFINED:
            if element.vr in (b"OB", b"OW") or tag == 0x7FE00010:
                fragments_until = 1
            ends.append(None)
            pos = element.value_at  # a sequence or fragments follow: walk into them
        elif sequence:
            ends.append(element.value_at + length)
            pos = element.value_at
        else:
            pos = element.value_at + length
    return out


def boundaries(
    data: bytes, *, implicit: bool = False, little: bool = True, starts_only: bool = False
) -> list[int]:
    """Every position where a structure starts: each header, length field and value; 0, 128,
    132. ``starts_only``: the first byte of each element header (and 0, 128, 132) only."""
    cuts = {0, 128, 132}
    for el in elements(data, implicit=implicit, little=little):
        cuts.update((el.start,) if starts_only else (el.start, el.length_at, el.value_at))
    return sorted(c for c in cuts if c < len(data))


def top_level_starts(data: bytes) -> set[int]:
    """Where top-level dataset elements start: a file cut there may be a valid, shorter one."""
    return {el.start for el in elements(data) if el.depth == 0 and el.tag >> 16 != 0x0002}
