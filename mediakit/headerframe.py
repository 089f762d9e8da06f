"""The common Part 10 header framed in memory, element for element as pydicom frames it.

``pydicom.dcmread(stop_before_pixels=True)`` costs most of every pass over a
medium: it reads each element header from the stream in Python, with a read,
a tell and a seek per element. Most files on a medium are the same simple case:
'DICM', a File Meta of known VRs, then an Explicit or Implicit VR Little Endian
dataset whose elements all fit in the first bytes of the file. For that case
:func:`frame` reads those bytes once and builds the very objects pydicom would
(the File Meta, a :class:`RawDataElement` per top-level element, an
undefined-length sequence read by pydicom's own ``read_sequence``), so that
everything after the framing (conversion, validation, the memo of
``part10._converted``) is unchanged.

Anything else returns None, and part10 reads the file with pydicom as before
(its limits, its tolerance, its error messages): no File Meta or no Transfer
Syntax UID, Big Endian or Deflated, a VR pydicom does not know or would guess,
Command Set or File Meta elements in the dataset, an undefined-length value
other than a sequence, a switch between implicit and explicit VR, any element
that does not fit in :data:`FRAME_LIMIT` bytes, anything pydicom raises on. The
bytes framed are bounded, so the header limits (``headerlimits``) cannot be
reached here: 1 MiB holds at most 131,072 elements or items (8 bytes each), and
:func:`frame` declines every file if the limits are ever set that low.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import MutableSequence
from dataclasses import dataclass
from typing import BinaryIO, Final

from pydicom.charset import convert_encodings, default_encoding
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import (
    DataElement,
    RawDataElement,
    convert_raw_data_element,
    empty_value_for_VR,
)
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_sequence
from pydicom.tag import BaseTag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
    PrivateTransferSyntaxes,
)
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32, VR
from pydicom.values import convert_string

from mediakit import headerlimits
from mediakit.tags import tag_of

FIRST_READ: Final = 64 << 10  # bytes read first: a CT or MR header and more
FRAME_LIMIT: Final = 1 << 20  # bytes framed at most (headerlimits' bounds stay out of reach)
_UNDEFINED: Final = 0xFFFFFFFF
_CHARSET: Final = 0x00080005
_TRANSFER_SYNTAX: Final = tag_of(0x00020010)
_PIXEL_TAGS: Final = frozenset({0x7FE00010, 0x7FE00009, 0x7FE00008})  # where pydicom stops
# The two-letter VRs pydicom knows (filereader.ENCODED_VR) and whether their length is 4 bytes
_KNOWN: Final = {v.value.encode(): v.value in EXPLICIT_VR_LENGTH_32 for v in VR if len(v) == 2}
_EXPLICIT: Final = struct.Struct("<HH2sH").unpack_from
_IMPLICIT: Final = struct.Struct("<HHL").unpack_from
_U32: Final = struct.Struct("<L").unpack_from


@dataclass(frozen=True, slots=True)
class Framed:
    """A header as pydicom would have read it, and where its top level stopped.

    ``stop`` is the position of the top-level pixel data element, or the end of
    the file when there is none: the elements before it were all framed whole.
    """

    dataset: Dataset  # with .file_meta and the original encoding set, as dcmread leaves it
    stop: int


class _More(Exception):
    """The bytes read end before the header does (internal)."""


class _Other(Exception):
    """Not the common case: pydicom must read this file (internal)."""


def frame(fp: BinaryIO, size: int, dataset_offset: int) -> Framed | None:
    """The header of the Part 10 file in ``fp``, or None where pydicom must read it.

    ``dataset_offset`` is where group 0002 ends (``part10._scan_meta`` found it
    and checked that the file holds a dataset after it). Whatever goes wrong
    here (pydicom raising on a value included) is None: part10 then reads the
    file with pydicom, which decides what it is.
    """
    if min(headerlimits.HEADER_ITEM_LIMIT, headerlimits.HEADER_ELEMENT_LIMIT) <= FRAME_LIMIT // 8:
        return None  # the bytes framed could hold more than the limits allow: pydicom's, bounded
    limit = min(size, FIRST_READ)
    while True:
        fp.seek(0)
        data = fp.read(limit)
        if len(data) != limit:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # as part10 reads with pydicom: rules report
                return _frame(data, size, dataset_offset)
        except _More:
            if limit == min(size, FRAME_LIMIT):
                return None
            limit = min(size, FRAME_LIMIT)
        except Exception:
            return None


def _frame(data: bytes, size: int, dataset_offset: int) -> Framed:
    meta = _file_meta(data, dataset_offset)
    syntax = getattr(meta.get(_TRANSFER_SYNTAX), "value", None)  # meta.TransferSyntaxUID, by tag
    if (
        not isinstance(syntax, str)
        or syntax in (ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian)
        or syntax in PrivateTransferSyntaxes
    ):
        raise _Other
    implicit = syntax == ImplicitVRLittleEndian  # read_partial: any other is Explicit VR LE
    if dataset_offset + 6 > len(data):
        raise _More
    a, b = data[dataset_offset + 4], data[dataset_offset + 5]  # as pydicom's _is_implicit_vr
    if (not (0x40 < a < 0x5B and 0x40 < b < 0x5B)) != implicit:
        raise _Other  # pydicom would switch VR encoding (and warn), or stop at once
    elements, stop = _top_level(data, size, dataset_offset, implicit)
    ds = Dataset(elements)
    encoding: str | MutableSequence[str] = default_encoding
    if (charset := elements.get(tag_of(_CHARSET))) is not None:  # as read_dataset does
        encoding = convert_encodings(convert_raw_data_element(charset).value)  # type: ignore[arg-type]
    ds.set_original_encoding(implicit, True, encoding)
    ds.file_meta = meta
    ds.set_original_encoding(implicit, True, ds._character_set)  # as read_partial does
    return Framed(ds, stop)


def _file_meta(data: bytes, end: int) -> FileMetaDataset:
    """Group 0002 from byte 132 to ``end``: Explicit VR Little Endian (PS3.10 §7.1)."""
    elements: dict[BaseTag, RawDataElement | DataElement] = {}
    pos = 132
    while pos < end:
        tag, vr, length, vpos = _explicit(data, pos)
        if tag >> 16 != 0x0002 or length == _UNDEFINED:
            raise _Other
        elements[tag_of(tag)] = _raw(data, tag, vr, length, vpos, False)
        pos = vpos + length
    if pos != end or not elements:
        raise _Other
    meta = FileMetaDataset(elements)
    meta.set_original_encoding(False, True, default_encoding)
    meta[next(iter(elements))]  # pydicom reads group 0002 again as implicit VR if this fails
    return meta


def _explicit(data: bytes, pos: int) -> tuple[int, str, int, int]:
    """Tag, VR, length and value position of the Explicit VR element at ``pos``."""
    if pos + 8 > len(data):
        raise _More
    group, elem, code, length = _EXPLICIT(data, pos)
    long = _KNOWN.get(code)
    if long is None or group == 0xFFFE:
        raise _Other  # a VR pydicom does not know (it guesses), or an item at the top level
    if not long:
        return group << 16 | elem, code.decode(), length, pos + 8
    if pos + 12 > len(data):
        raise _More
    return group << 16 | elem, code.decode(), _U32(data, pos + 8)[0], pos + 12


def _raw(
    data: bytes, tag: int, vr: str | None, length: int, vpos: int, implicit: bool
) -> RawDataElement:
    """The element as pydicom's data_element_generator yields it (values never deferred)."""
    if vpos + length > len(data):
        raise _More
    value = data[vpos : vpos + length] if length else empty_value_for_VR(vr, raw=True)
    return RawDataElement(tag_of(tag), vr, length, value, vpos, implicit, True)  # type: ignore[arg-type]


def _top_level(
    data: bytes, size: int, pos: int, implicit: bool
) -> tuple[dict[BaseTag, RawDataElement | DataElement], int]:
    """The dataset's top-level elements up to the pixel data, and where they stop."""
    elements: dict[BaseTag, RawDataElement | DataElement] = {}
    encoding: str | MutableSequence[str] = default_encoding
    while pos < size:
        if implicit:
            if pos + 8 > len(data):
                raise _More
            group, elem, length = _IMPLICIT(data, pos)
            tag, vr, vpos = group << 16 | elem, None, pos + 8
        else:
            tag, vr, length, vpos = _explicit(data, pos)
        if tag in _PIXEL_TAGS:
            return elements, pos
        if tag >> 16 in (0x0000, 0x0002, 0xFFFE):
            raise _Other  # Command Set or File Meta elements in the dataset; an item
        if length == _UNDEFINED:
            elements[tag_of(tag)], pos = _sequence(data, size, tag, vr, vpos, implicit, encoding)
            continue
        elements[tag_of(tag)] = raw = _raw(data, tag, vr, length, vpos, implicit)
        if tag == _CHARSET:  # as the generator decodes the items of later sequences
            encoding = convert_encodings(convert_string(raw.value or b"", True))
        pos = vpos + length
    return elements, pos


def _sequence(
    data: bytes,
    size: int,
    tag: int,
    vr: str | None,
    vpos: int,
    implicit: bool,
    encoding: str | MutableSequence[str],
) -> tuple[DataElement, int]:
    """An undefined-length sequence, read by pydicom's read_sequence as dcmread reads it."""
    if vr is None:
        vr = dictionary_VR(tag)  # a tag it does not know: it looks for an item (not here)
    if vr != "SQ":
        raise _Other  # encapsulated data, or UN of undefined length (read as SQ, PS3.5 §6.2.2)
    fp = io.BytesIO(data)
    fp.seek(vpos)
    try:
        seq = read_sequence(fp, implicit, True, _UNDEFINED, encoding)
    except Exception:
        raise (_Other if len(data) == size else _More) from None
    if len(data) < size and fp.tell() + 8 > len(data):
        raise _More  # it may have ended where the bytes read end, not where the file does
    return DataElement(tag_of(tag), "SQ", seq, vpos, is_undefined_length=True), fp.tell()
