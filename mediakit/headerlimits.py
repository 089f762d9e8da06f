"""Bounds on a Part 10 header before pydicom parses it (README "Limits"; issue 8).

pydicom builds an object for every element and item before the pixel data,
and inflates a Deflated Explicit VR Little Endian dataset whole, in memory: a
hostile file of a few MB can cost minutes and gigabytes. :func:`header_too_big`
looks first, cheaply, and says why a file is refused (P106), or None.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO, Final

HEADER_ITEM_LIMIT: Final = 200_000  # sequence items in one header
HEADER_ELEMENT_LIMIT: Final = 2_000_000  # elements before the pixel data
DEFLATED_LIMIT: Final = 256 << 20  # a deflated dataset inflates to at most this
_CHUNK: Final = 1 << 20
_UNDEFINED: Final = 0xFFFFFFFF  # an undefined length (PS3.5 §7.1.1)
_LONG_VRS: Final = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())  # PS3.5 7.1.2


def header_too_big(
    fp: BinaryIO, pos: int, size: int, implicit: bool, little: bool, deflated: bool
) -> str | None:
    """Why the dataset at ``pos`` is refused before parsing (P106), or None."""
    if deflated:
        if _inflates_past(fp, pos, DEFLATED_LIMIT):
            return f"the deflated dataset inflates past {DEFLATED_LIMIT >> 20} MiB: not parsed"
        return None
    return _too_many(fp, pos, size, implicit, little)


def _too_many(fp: BinaryIO, pos: int, size: int, implicit: bool, little: bool) -> str | None:
    """Why a header has too many items or elements to parse (P106), or None.

    pydicom builds an object for every element and item before the pixel data:
    hundreds of thousands of empty items, or millions of tiny elements, cost
    minutes and gigabytes. Element headers only are walked first, one by one,
    into every sequence and item, up to the top level's Pixel Data; past
    :data:`HEADER_ITEM_LIMIT` items or :data:`HEADER_ELEMENT_LIMIT` elements the
    file is refused. Anything odd (a length past the end) ends the walk: the
    parse and :func:`_truncation` then say what is wrong.
    """
    e = "<" if little else ">"
    item_tag = struct.pack(f"{e}HH", 0xFFFE, 0xE000)
    items = elements = 0
    ends: list[int] = []  # where the open defined-length sequences and items end
    while pos + 8 <= size:
        while ends and pos >= ends[-1]:
            ends.pop()
        fp.seek(pos)  # one header at a time: never a byte past the Pixel Data's header
        head = fp.read(12)
        if len(head) < 8:
            return None
        group, elem, length = struct.unpack(f"{e}HHL", head[:8])
        vpos = pos + 8
        if group != 0xFFFE and not implicit:
            if head[4:6] in _LONG_VRS:
                if len(head) < 12:
                    return None  # cut inside the header: _truncation says so
                (length,) = struct.unpack(f"{e}L", head[8:12])
                vpos = pos + 12
            else:
                (length,) = struct.unpack(f"{e}H", head[6:8])
        if group == 0xFFFE:
            items += elem == 0xE000
        elif (group, elem) == (0x7FE0, 0x0010) and not ends:
            return None  # pydicom stops before the pixels
        else:
            elements += 1
        if items > HEADER_ITEM_LIMIT or elements > HEADER_ELEMENT_LIMIT:
            what, limit = (
                ("items", HEADER_ITEM_LIMIT)
                if items > HEADER_ITEM_LIMIT
                else ("elements", HEADER_ELEMENT_LIMIT)
            )
            return f"more than {limit:,} {what} in its header (by {pos:#x}): not parsed"
        if length == _UNDEFINED or group == 0xFFFE:
            pos = vpos  # entered: a sequence, an item, a delimiter
            if length not in (_UNDEFINED, 0) and group == 0xFFFE:
                ends.append(vpos + length)
        elif vpos + length > size:
            return None
        elif (head[4:6] == b"SQ" and not implicit) or _peek(fp, vpos, length) == item_tag:
            ends.append(vpos + length)  # a defined-length sequence: its items are walked
            pos = vpos
        else:
            pos = vpos + length
    return None


def _inflates_past(fp: BinaryIO, pos: int, limit: int) -> bool:
    """Whether the deflated stream at pos inflates to more than ``limit`` bytes.

    pydicom inflates a Deflated Explicit VR Little Endian dataset whole, in
    memory: a few MB can claim gigabytes. Inflated here first, in chunks and
    counted, never kept; a stream that is not deflate data is pydicom's to refuse.
    """
    fp.seek(pos)
    inflater, out = zlib.decompressobj(-zlib.MAX_WBITS), 0
    try:
        while not inflater.eof:
            chunk = inflater.unconsumed_tail or fp.read(_CHUNK)
            if not chunk:
                return False
            out += len(inflater.decompress(chunk, _CHUNK))
            if out > limit:
                return True
    except zlib.error:
        return False
    return False


def _peek(fp: BinaryIO, pos: int, length: int) -> bytes:
    """The first 4 bytes of a value (an item tag begins a sequence's value)."""
    if length < 8:
        return b""
    fp.seek(pos)
    return fp.read(4)
