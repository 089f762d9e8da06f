"""Mutations of a valid file as hypothesis strategies: what transit, a burner or an attacker does.

A :class:`Seed` is a valid file plus the places where its structure lives
(element lengths, directory record offsets, Referenced File IDs), found with
the test's own element walker (:mod:`tests.elements`). :func:`mutations`
draws a short list of operations, each aimed either anywhere or at one of
those places; :func:`apply` performs them. Hypothesis shrinks a failing list
to the fewest, smallest operations, so a crash is reported as a short recipe.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from hypothesis import strategies as st

from tests.elements import UNDEFINED, elements

_OFFSET_TAGS: Final = frozenset({0x00041200, 0x00041202, 0x00041400, 0x00041420})
_FILE_ID: Final = 0x00041500
# Referenced File IDs a hostile medium can really encode in one CS value (backslash = next value)
HOSTILE_FILE_IDS: Final = (
    b"..\\OUTSIDE\\EVIL",
    b"..\\..\\..\\OUTSIDE\\EVIL",
    b"\\ETC\\PASSWD",
    b"\\\\SERVER\\SHARE\\EVIL",
    b"C:\\WINDOWS\\EVIL",
    b"C:EVIL",
    b"PT000000/../../OUTSIDE/EVIL",
    b"../OUTSIDE/EVIL",
    b"../../OUTSIDE/EVIL",
    b"/etc/passwd",
    b"PT000000\\.\\IM000000",
    b"PT000000\\\\IM000000",
    b"IM\x00..\\EVIL",
    b".",
    b"..",
    b"",
    b"\\",
    b"A" * 300,
    b"PT000000\\ST000000\\SE000000\\IM000000",
    b"pt000000\\st000000\\se000000\\im000000.dcm",
    b"DICOMDIR",
    b"SHA256.TXT",
)


@dataclass(frozen=True)
class Seed:
    """A valid file and where its structure is."""

    name: str
    data: bytes
    lengths: tuple[tuple[int, int], ...]  # (position, size 2 or 4) of every length field
    offsets: tuple[int, ...]  # positions of the UL values of (0004,1200/1202/1400/1420)
    records: tuple[int, ...]  # positions of Item tags (directory records, nested items)
    file_ids: tuple[tuple[int, int, int], ...]  # (length field, value position, value length)
    hot: tuple[int, int] | None = None  # where most mutations should land (an image's directories)

    def __repr__(self) -> str:  # hypothesis prints the seed with a failing example
        return f"Seed({self.name!r}, {len(self.data)} bytes)"


def seed(name: str, data: bytes, *, implicit: bool = False, little: bool = True) -> Seed:
    """Find the structure of ``data`` (a Part 10 file or a DICOMDIR)."""
    found = elements(data, implicit=implicit, little=little)
    return Seed(
        name,
        data,
        tuple((e.length_at, e.length_size) for e in found),
        tuple(e.value_at for e in found if e.tag in _OFFSET_TAGS and e.length == 4),
        tuple(e.start for e in found if e.tag == 0xFFFEE000),
        tuple(
            (e.length_at, e.value_at, e.length)
            for e in found
            if e.tag == _FILE_ID and e.length_size == 2
        ),
    )


def raw_seed(name: str, data: bytes) -> Seed:
    """A seed without known structure (an image): only positions and lengths of the whole."""
    return Seed(name, data, (), (), (), ())


Op = tuple[Any, ...]


def _interesting_offsets(s: Seed) -> st.SearchStrategy[int]:
    size = len(s.data)
    fixed = [0, 1, 2, 7, 8, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF8, UNDEFINED, size - 1, size]
    fixed += [size + 1, size + 8, 1 << 31 | size]
    aimed = [st.sampled_from(fixed)]
    if s.records:
        records = st.sampled_from(s.records)
        # a record's own start, or a little off it: into the middle of its header or value
        aimed.append(records)
        aimed.append(st.builds(lambda r, d: (r + d) & UNDEFINED, records, st.integers(-40, 40)))
    return st.one_of(*aimed)


def _interesting_lengths(original: int, size: int) -> st.SearchStrategy[int]:
    return st.one_of(
        st.sampled_from([0, 1, 2, 3, 0xFFFF, UNDEFINED, UNDEFINED - 1, 0x7FFFFFFF, size, size + 1]),
        st.integers(-16, 16).map(lambda d: max(0, original + d)),
    )


def mutations(
    s: Seed, *, hot: tuple[int, int] | None = None, image: bool = False
) -> st.SearchStrategy[list[Op]]:
    """A list of 1-4 operations on ``s``; ``hot`` is a byte range most positions fall in.

    ``image``: an ISO 9660 image, whose structures sit at fixed sectors. Bytes are
    inserted, deleted or duplicated only after the hot range (before it they would
    only shift the descriptors off their sectors); inside it, both-byte-order
    32-bit fields (ECMA-119 7.3.3: extents, lengths, sizes) get interesting values.
    """
    size = len(s.data)
    anywhere = st.integers(0, max(0, size - 1))
    pos = anywhere if hot is None else st.one_of(st.integers(*hot), anywhere)
    shifting = st.integers(hot[1], max(hot[1], size - 1)) if image and hot else pos
    blob = st.binary(min_size=1, max_size=64)
    ops: list[st.SearchStrategy[Op]] = [
        st.tuples(st.just("flip"), pos, st.integers(0, 7)),
        st.tuples(st.just("put"), pos, blob),
        st.tuples(st.just("insert"), shifting, blob),
        st.tuples(st.just("delete"), shifting, st.integers(1, 256)),
        st.tuples(st.just("truncate"), shifting if image else anywhere),
        st.tuples(st.just("dup"), pos, st.integers(1, 512), shifting),
    ]
    if image and hot:
        blocks = size // 2048
        values = [0, 1, 16, 17, 18, 19, 20, blocks - 1, blocks, blocks + 1, size, 0x7FFFFFFF]
        values.append(UNDEFINED)
        ops.append(
            st.tuples(
                st.just("both32"),
                st.integers(*hot),
                st.one_of(st.sampled_from(values), st.integers(0, UNDEFINED)),
            )
        )
    if s.lengths:
        field = st.sampled_from(s.lengths)

        def length_op(f: tuple[int, int]) -> st.SearchStrategy[Op]:
            was = int.from_bytes(s.data[f[0] : f[0] + f[1]], "little")
            return st.tuples(st.just("length"), st.just(f), _interesting_lengths(was, size))

        ops.append(field.flatmap(length_op))
    if s.offsets:
        ops.append(
            st.tuples(st.just("offset"), st.sampled_from(s.offsets), _interesting_offsets(s))
        )
    if s.file_ids:
        ops.append(
            st.tuples(
                st.just("file_id"),
                st.sampled_from(s.file_ids),
                st.sampled_from(HOSTILE_FILE_IDS),
                st.booleans(),  # keep the element's length (framing intact) or fit the value
            )
        )
    return st.lists(st.one_of(*ops), min_size=1, max_size=4)


def _set(out: bytearray, at: int, size: int, value: int) -> None:
    if at + size <= len(out):
        struct.pack_into("<H" if size == 2 else "<L", out, at, value % (1 << (8 * size)))


def apply(data: bytes, ops: Sequence[Op]) -> bytes:
    """Perform the operations in order; positions beyond the (changed) end are clamped."""
    out = bytearray(data)
    for kind, *args in ops:
        n = len(out)
        if kind == "flip":
            at, bit = args
            if at < n:
                out[at] ^= 1 << bit
        elif kind in ("put", "insert"):
            at, blob = min(args[0], n), args[1]
            out[at : at + (len(blob) if kind == "put" else 0)] = blob
        elif kind == "delete":
            at, count = args
            del out[at : at + count]
        elif kind == "truncate":
            del out[args[0] :]
        elif kind == "dup":
            at, count, dest = args
            chunk = bytes(out[at : at + count])
            out[min(dest, n) : min(dest, n)] = chunk
        elif kind == "length":
            (at, size), value = args
            _set(out, at, size, value)
        elif kind == "offset":
            _set(out, args[0], 4, args[1])
        elif kind == "both32":  # little endian, then big endian (ECMA-119 7.3.3)
            at, value = args
            if at + 8 <= n:
                out[at : at + 8] = struct.pack("<L", value) + struct.pack(">L", value)
        elif kind == "file_id":
            (length_at, value_at, length), hostile, keep = args
            if value_at + length > n:
                continue
            if keep:  # the element keeps its length: the framing around it stays intact
                value = (hostile + b" " * length)[:length]
            else:
                value = hostile + (b" " if len(hostile) % 2 else b"")
                _set(out, length_at, 2, len(value))
            out[value_at : value_at + length] = value
    return bytes(out)
