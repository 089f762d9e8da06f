"""Part 10 files (PS3.10 §7): read the facts of one file's header, and rewrite it.

:func:`read_header` reads a file up to its pixel data and returns a
:class:`Header`: how it is encoded (preamble, File Meta, transfer syntax) and
the few attributes the DICOMDIR and the checks need. It never decodes pixel
data (at most the bytes a header is framed from, ``headerframe``, are read past
its start), and never trusts a declared length beyond the file's size.

:func:`write_part10` writes a conformant Part 10 file for a profile: the bytes
are copied verbatim when the file already conforms, and re-encoded otherwise
(new File Meta, zero preamble, the profile's transfer syntax). The dataset's
content is never changed.
"""

from __future__ import annotations

import array
import hashlib
import re
import struct
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import BinaryIO, Final, Literal

import pydicom
import pydicom.values
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import BaseTag
from pydicom.uid import UID
from pydicom.valuerep import VR

from mediakit import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
from mediakit.errors import DamagedFileError, InputError, MediaError
from mediakit.headerframe import frame
from mediakit.headerlimits import header_too_big
from mediakit.tags import tag_of

IMPLICIT_VR_LE: Final = "1.2.840.10008.1.2"
EXPLICIT_VR_LE: Final = "1.2.840.10008.1.2.1"
EXPLICIT_VR_BE: Final = "1.2.840.10008.1.2.2"
DEFLATED_LE: Final = "1.2.840.10008.1.2.1.99"
MEDIA_STORAGE_DIRECTORY: Final = "1.2.840.10008.1.3.10"  # PS3.4 Annex I: a DICOMDIR
UNCOMPRESSED: Final = frozenset({IMPLICIT_VR_LE, EXPLICIT_VR_LE, EXPLICIT_VR_BE})

# Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 §7.1.2).
_LONG_VRS: Final = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_REQUIRED_META: Final = (
    "FileMetaInformationVersion",
    "MediaStorageSOPClassUID",
    "MediaStorageSOPInstanceUID",
    "TransferSyntaxUID",
    "ImplementationClassUID",
)
_COPY_CHUNK: Final = 1 << 20
_UNDEFINED: Final = 0xFFFFFFFF  # an undefined length (PS3.5 §7.1.1)
_UID_RE: Final = re.compile(r"^[0-9]+(\.[0-9]+)+$")
_SPECIFIC_CHARACTER_SET: Final = tag_of(0x00080005)
_SOP_CLASS_UID: Final = tag_of(0x00080016)
_SOP_INSTANCE_UID: Final = tag_of(0x00080018)

Preamble = Literal["zero", "tiff", "other", "absent"]


@dataclass(frozen=True, slots=True)
class Header:
    """What one file's header says, read without its pixel data.

    ``transfer_syntax`` is how the dataset is really encoded: the File Meta's
    value when there is one, otherwise what the bytes show (a bare dataset).
    ``keys`` holds only the attributes asked for (DICOMDIR keys and hierarchy).
    """

    size: int
    preamble: Preamble
    has_meta: bool
    meta: Mapping[str, str]  # File Meta values by keyword, as text
    meta_problems: tuple[str, ...]  # P103 details: missing elements, bad group length
    transfer_syntax: str
    dataset_offset: int  # where the dataset starts: bytes before it are preamble + meta
    group2_in_dataset: bool
    sop_class_uid: str
    sop_instance_uid: str
    keys: Dataset = field(repr=False)
    truncated: str | None = None  # where the file ends inside an element (P109), else None

    @property
    def meta_mismatch(self) -> tuple[str, ...]:
        """File Meta SOP Class/Instance UIDs that differ from the dataset's (P104)."""
        out = []
        for meta_kw, value in (
            ("MediaStorageSOPClassUID", self.sop_class_uid),
            ("MediaStorageSOPInstanceUID", self.sop_instance_uid),
        ):
            got = self.meta.get(meta_kw)
            if got is not None and value and got != value:
                out.append(f"{meta_kw} {got} != {value}")
        return tuple(out)

    @property
    def is_directory(self) -> bool:
        """A DICOMDIR, or a vendor's lower-level directory file: no SOP Common module."""
        return self.meta.get("MediaStorageSOPClassUID") == MEDIA_STORAGE_DIRECTORY

    def conforms(self, transfer_syntaxes: Collection[str]) -> bool:
        """True when the bytes can go onto a medium of these syntaxes unchanged."""
        return (
            self.has_meta
            and self.preamble in ("zero", "tiff")
            and not self.meta_problems
            and not self.meta_mismatch
            and not self.group2_in_dataset
            and self.transfer_syntax in transfer_syntaxes
        )


def _preamble_kind(head: bytes) -> Preamble:
    if len(head) < 132 or head[128:132] != b"DICM":
        return "absent"
    if not any(head[:128]):
        return "zero"
    if head[:4] in (b"II*\x00", b"MM\x00*"):  # PS3.10 §7.5: a TIFF header is allowed
        return "tiff"
    return "other"


class _Cut(Exception):
    """The file ends inside group 0002: where, in words."""


def _scan_meta(fp: BinaryIO, size: int) -> tuple[int, int | None, str]:
    """Walk group 0002 (always ELE): return (dataset offset, declared group length, syntax).

    Raises :class:`_Cut` when the file ends inside an element of group 0002, or
    where the dataset should begin: a Part 10 file holds one (PS3.10 §7.1).
    """
    pos, declared, syntax = 132, None, ""
    while pos < size:
        fp.seek(pos)
        head = fp.read(min(12, size - pos))
        if len(head) < 8:  # of group 0002 or of the dataset's first element: cut either way
            in_meta = head[:2] == b"\x02\x00" or (declared is not None and pos < 144 + declared)
            what = "a File Meta element header" if in_meta else "an element header"
            raise _Cut(f"the file ends inside {what} at {pos:#x}")
        group, elem = struct.unpack("<HH", head[:4])
        if group != 0x0002:
            break
        if head[4:6] in _LONG_VRS:
            if len(head) < 12:
                raise _Cut(
                    f"the file ends inside the header of File Meta element (0002,{elem:04X}) "
                    f"at {pos:#x}"
                )
            length = struct.unpack("<L", head[8:12])[0]
            value_at = pos + 12
        else:
            length = struct.unpack("<H", head[6:8])[0]
            value_at = pos + 8
        if value_at + length > size:
            raise _Cut(
                f"File Meta element (0002,{elem:04X}) at {pos:#x}: {length} bytes, "
                f"the file ends at {size:#x}"
            )
        if elem == 0x0000 and length == 4:
            declared = struct.unpack("<L", head[8:12])[0]
        elif elem == 0x0010 and length <= 64:  # Transfer Syntax UID
            fp.seek(value_at)
            syntax = fp.read(length).rstrip(b"\x00 ").decode("ascii", "replace")
        pos = value_at + length
    if pos >= size:
        if declared is not None and 144 + declared > size:
            raise _Cut(
                f"the File Meta group length says group 0002 ends at {144 + declared:#x}, "
                f"the file ends at {size:#x}"
            )
        raise _Cut(f"the file ends at {size:#x}, after its File Meta: there is no dataset")
    return pos, declared, syntax


# Two-letter VRs of PS3.5 Table 6.2-1, as pydicom knows them ("US or SS" and the like excluded).
_VR_CODES: Final = frozenset(v.value.encode() for v in VR if len(v.value) == 2)
# Where a dataset without File Meta can begin: with group 0002 (File Meta without a
# preamble), 0004 (a bare directory) or 0008 up to SOP Class UID (0008,0016), which
# every instance has; elements are in ascending tag order (PS3.5 §7.1).
_BARE_FIRST_GROUPS: Final = frozenset({0x0002, 0x0004, 0x0008})
_SOP_CLASS_UID_ELEMENT: Final = 0x0016


def plausible_dataset_start(head: bytes) -> bool:
    """Whether ``head`` (a file's first 8 bytes or more) can begin a dataset without File Meta.

    The first element's tag must be in group 0002 or 0004, or in group 0008 no
    later than (0008,0016): an instance without File Meta names its SOP Class
    there, and elements come in ascending order (PS3.5 §7.1). Read little endian
    that is Implicit VR or Explicit VR; read big endian, it must be Explicit VR
    (a VR of PS3.5 Table 6.2-1 follows the tag), as Implicit VR is little endian
    only (PS3.5 §10.1). Zeros, text, PDFs and archives fail on the first bytes.
    """
    if len(head) < 8:
        return False
    for order in "<>":
        group, elem = struct.unpack(f"{order}HH", head[:4])
        if group not in _BARE_FIRST_GROUPS or (group == 0x0008 and elem > _SOP_CLASS_UID_ELEMENT):
            continue
        if order == "<" or head[4:6] in _VR_CODES:
            return True
    return False


def _encoding_uid(ds: Dataset) -> str:
    implicit, little = ds.original_encoding
    if implicit:
        return IMPLICIT_VR_LE
    return EXPLICIT_VR_LE if little else EXPLICIT_VR_BE


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()
    return str(value).strip()


def read_header(path: Path, *, keywords: Collection[str] = ()) -> Header:
    """Read the facts of one file's header, stopping before the pixel data.

    Parameters
    ----------
    path
        The file to read.
    keywords
        Attributes (pydicom keywords) to keep in :attr:`Header.keys`.

    Raises
    ------
    InputError
        When the file cannot be read, or is not DICOM at all.
    """
    try:
        with open(path, "rb") as fp:
            return _read_header(fp, path.stat().st_size, keywords, str(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_header_stream(
    fp: BinaryIO, size: int, *, where: str, keywords: Collection[str] = ()
) -> Header:
    """:func:`read_header` for an open, seekable stream of ``size`` bytes (a file on a medium)."""
    return _read_header(fp, size, keywords, where)


def _read_header(fp: BinaryIO, size: int, keywords: Collection[str], where: str) -> Header:
    """:func:`_header`, with anything pydicom raises on hostile bytes made an InputError.

    A file with 'DICM' at byte 128 is DICOM (PS3.10 §7.1): when it cannot be read
    it is damaged, a :class:`DamagedFileError` (P109 when it ends inside an
    element, the File Meta included; P106 otherwise), never "not DICOM".
    """
    head = fp.read(132)
    preamble = _preamble_kind(head)
    try:
        return _header(fp, head, preamble, size, keywords, where)
    except (DamagedFileError, OSError, MediaError):
        raise  # damaged DICOM; or the disk or medium failed, which is not the file's content
    except Exception as exc:  # a file that breaks pydicom is not DICOM to us, never a crash
        why = (
            str(exc).removeprefix(f"{where}: ")
            if isinstance(exc, InputError)
            else f"not DICOM ({type(exc).__name__}: {exc})"
        )
        if preamble != "absent":
            detail = why.removeprefix("not DICOM (").removesuffix(")")
            raise DamagedFileError(where, "P106", f"damaged: {detail}") from None
        raise InputError(f"{where}: {why}") from None


def _header(
    fp: BinaryIO,
    head: bytes,
    preamble: Preamble,
    size: int,
    keywords: Collection[str],
    where: str,
) -> Header:
    problems: list[str] = []
    dataset_offset, declared = 0, None
    if preamble == "absent":
        if not plausible_dataset_start(head):
            first = f"its first bytes {head[:8].hex(' ')} begin" if head else "it is empty:"
            raise InputError(f"{where}: not DICOM (no 'DICM' at byte 128, and {first} no dataset)")
        # pydicom's guess for a bare dataset: Explicit VR when a VR follows the tag, and
        # then big endian when the group makes sense only so; Implicit VR is little endian.
        explicit = head[4:6] in _VR_CODES
        little = not explicit or struct.unpack("<H", head[:2])[0] in _BARE_FIRST_GROUPS
        encoding, syntax = (not explicit, little), ""
    else:
        try:
            dataset_offset, declared, syntax = _scan_meta(fp, size)
        except _Cut as cut:
            raise DamagedFileError(where, "P109", str(cut)) from None
        encoding = (syntax == IMPLICIT_VR_LE, syntax != EXPLICIT_VR_BE)
        fp.seek(dataset_offset)
        start = fp.read(8)
        if syntax != DEFLATED_LE and not plausible_dataset_start(start):
            raise DamagedFileError(
                where,
                "P106",
                f"damaged: the dataset at {dataset_offset:#x} begins with {start.hex(' ')}, "
                "which begins no dataset",
            )
        if declared is None:
            problems.append("(0002,0000) File Meta Information Group Length missing")
        elif declared != dataset_offset - 144:
            problems.append(
                f"(0002,0000) group length {declared} but group 0002 is "
                f"{dataset_offset - 144} bytes"
            )
    framed = frame(fp, size, dataset_offset) if preamble != "absent" else None
    if framed is not None:  # the common case, framed in memory as pydicom frames it
        ds, checked_to = framed.dataset, framed.stop
    else:
        ds, checked_to = _parse_bounded(fp, dataset_offset, size, encoding, syntax, where)
    meta = _meta_values(ds.file_meta)
    if preamble != "absent":
        problems.extend(f"{kw} missing" for kw in _REQUIRED_META if not meta.get(kw))
        if meta.get("FileMetaInformationVersion") not in (None, "", "0001"):
            problems.append(f"FileMetaInformationVersion is {meta['FileMetaInformationVersion']}")
    encoded = _encoding_uid(ds)
    ts = meta.get("TransferSyntaxUID") or encoded
    if ts in UNCOMPRESSED and ts != encoded:
        problems.append(f"TransferSyntaxUID says {ts} but the dataset is encoded as {encoded}")
        ts = encoded
    # keys(), not the elements: iterating a Dataset reads deferred values, which a stream
    # (an ISO extent) cannot re-open by name.
    group2 = any(tag >> 16 == 0x0002 for tag in ds.keys())  # noqa: SIM118
    wanted: dict[BaseTag, DataElement | RawDataElement] = {}  # public tags, as __setitem__ puts
    present = ds.keys()
    charset = _charset_key(ds.original_character_set)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid values are reported by rules, not by pydicom
        for tag in _wanted_tags(tuple(keywords)):
            try:
                if tag in present:
                    wanted[tag] = _converted(ds, tag, charset)
            except Exception:  # a value pydicom cannot convert is absent for our purposes
                continue
    keys = Dataset(wanted)
    truncated = None
    if ts != DEFLATED_LE:  # a deflated dataset's bytes are not elements
        truncated = _truncation(fp, checked_to, size, *ds.original_encoding)
    return Header(
        truncated=truncated,
        size=size,
        preamble=preamble,
        has_meta=preamble != "absent",
        meta=meta,
        meta_problems=tuple(problems),
        transfer_syntax=ts,
        dataset_offset=dataset_offset,
        group2_in_dataset=group2,
        sop_class_uid=_text(_value(ds, _SOP_CLASS_UID)),
        sop_instance_uid=_text(_value(ds, _SOP_INSTANCE_UID)),
        keys=keys,
    )


def _value(ds: Dataset, tag: BaseTag) -> object:
    """``ds.get(keyword, "")`` for the keyword of ``tag``, without resolving the keyword."""
    try:
        return ds[tag].value if tag in ds else ""
    except AttributeError:  # getattr(ds, keyword, "") returns its default for that too
        return ""


def _parse_bounded(
    fp: BinaryIO,
    dataset_offset: int,
    size: int,
    encoding: tuple[bool, bool],
    syntax: str,
    where: str,
) -> tuple[Dataset, int]:
    """pydicom's reading of any header, within the header limits; and where to check lengths from.

    Raises DamagedFileError for a header past the limits (P106) and for a file cut
    where pydicom cannot step over it (P109); InputError for anything else it cannot read.
    """
    if why := header_too_big(fp, dataset_offset, size, *encoding, syntax == DEFLATED_LE):
        raise DamagedFileError(where, "P106", why)
    fp.seek(0)
    try:
        return _parse(fp, where), dataset_offset
    except InputError:  # pydicom gives up on a cut it cannot step over: say where it is
        if syntax != DEFLATED_LE:  # a deflated dataset's bytes are not elements
            where_cut = _truncation(fp, dataset_offset, size, *encoding)
            if where_cut is not None:
                raise DamagedFileError(where, "P109", where_cut) from None
        raise


def _truncation(
    fp: BinaryIO, pos: int, size: int, implicit: bool | None, little: bool | None
) -> str | None:
    """Where the file ends inside an element, or None: every declared length must fit.

    pydicom reads a file cut inside a value (even inside a sequence) without a
    word and keeps what it got; a copy cut in transit then looks like a shorter,
    valid instance. Element headers only are read, iteratively, to the end of
    the file: defined lengths are skipped, undefined-length sequences, items and
    encapsulated fragments are entered. Group 0002 is Explicit VR Little Endian.
    """
    open_ = 0  # undefined-length sequences and items not yet closed
    while pos < size:
        if pos + 8 > size:
            return f"ends inside an element header at {pos:#x}"
        fp.seek(pos)
        head = fp.read(12 if pos + 12 <= size else 8)
        meta = head[:2] == b"\x02\x00"
        e = "<" if meta or little is not False else ">"
        group, elem, length = struct.unpack(f"{e}HHL", head[:8])
        vpos = pos + 8
        if group != 0xFFFE and (meta or not implicit):
            if head[4:6] in _LONG_VRS:
                if len(head) < 12:
                    return f"ends inside an element header at {pos:#x}"
                (length,) = struct.unpack(f"{e}L", head[8:12])
                vpos = pos + 12
            else:
                (length,) = struct.unpack(f"{e}H", head[6:8])
        if group == 0xFFFE and elem in (0xE00D, 0xE0DD):
            open_ = max(0, open_ - 1)  # the end of an item or a sequence
            pos = vpos
        elif length == _UNDEFINED:
            open_ += 1  # a sequence, an item or encapsulated fragments: elements follow
            pos = vpos
        elif vpos + length > size:
            return f"({group:04X},{elem:04X}) at {pos:#x}: {length} bytes, file ends at {size:#x}"
        else:
            pos = vpos + length  # the whole value is there (a defined-length item included)
    return f"ends inside {open_} undefined-length sequence(s) or item(s)" if open_ else None


@cache
def _wanted_tags(keywords: tuple[str, ...]) -> tuple[BaseTag, ...]:
    """The tags of the keywords asked for (and Specific Character Set), once per keyword list.

    Looking each keyword up in every header (``kw in ds``) cost more than parsing it.
    Keywords pydicom does not know are never present, as ``kw in ds`` found them.
    """
    tags = (tag_for_keyword(kw) for kw in (*keywords, "SpecificCharacterSet"))
    found = (tag_of(t) for t in dict.fromkeys(t for t in tags if t is not None))
    return tuple(t for t in found if not t.is_private)


# Converted values by exactly what their conversion depends on (see _converted).
_MEMO: dict[tuple[object, ...], DataElement] = {}
_MEMO_LIMIT: Final = 1 << 15  # entries; the memo starts over when full
_MEMO_VALUE_LIMIT: Final = 256  # bytes: UIDs, names, dates, numbers, geometry
# A sequence, UN, the binary VRs and the ambiguous ones ("US or SS", ...) are converted each
# time: their value or VR can depend on the dataset around them, or they are large.
_MEMO_VRS: Final = frozenset({
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN",
    "SH", "SL", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UR", "US", "UT", "UV",
})  # fmt: skip


def _charset_key(charset: object) -> object:
    return tuple(charset) if isinstance(charset, list) else charset


def _converted(ds: Dataset, tag: BaseTag, charset: object) -> DataElement:
    """``_load(ds[tag])``, reusing the conversion of identical bytes in an earlier header.

    Slices of one series repeat most of their header (patient, study, series,
    geometry), and pydicom's decoding and validation of a value cost more than
    framing the whole header. A public element of explicit VR, not a sequence nor
    UN nor binary nor ambiguous, converts the same whatever surrounds it: its tag,
    VR, byte order, bytes and the dataset's character set decide the result. Such
    a result is kept and copied (with the position of this file's value); anything
    else goes through pydicom every time. The elements of a sequence's items are
    converted the same way (the items of one structure set repeat their SOP Class
    UIDs). Header keys are never modified, so the copies may share their values.
    """
    elem = _convert_one(ds, tag, charset)
    stack = list(elem.value) if elem.VR == "SQ" else []
    while stack:  # as _load, with the memo
        item = stack.pop()
        if not (item_charset := item.original_character_set):
            for nested in item:  # pydicom decodes it in a character set of its own choosing
                if nested.VR == "SQ":
                    stack.extend(nested.value)
            continue
        key = _charset_key(item_charset)
        for nested_tag in list(item.keys()):
            nested = _convert_one(item, nested_tag, key)
            if item.get_item(nested_tag) is not nested:
                item[nested_tag] = nested  # a copy from the memo: the item holds it decoded
            if nested.VR == "SQ":
                stack.extend(nested.value)
    return elem


def _convert_one(ds: Dataset, tag: BaseTag, charset: object) -> DataElement:
    """``ds[tag]``, or a copy of the same conversion of the same bytes made earlier."""
    raw = ds.get_item(tag)
    if (
        not isinstance(raw, RawDataElement)
        or raw.VR not in _MEMO_VRS
        or raw.value is None
        or len(raw.value) > _MEMO_VALUE_LIMIT
        or tag.is_private
        or tag == _SPECIFIC_CHARACTER_SET
    ):
        return ds[tag]
    key = (tag, raw.VR, raw.is_little_endian, raw.value, charset)
    known = _MEMO.get(key)
    if known is None:
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        known = _MEMO[key] = ds[tag]  # pydicom converts it, exactly as without the memo
        return known
    elem = DataElement.__new__(DataElement)  # copy.copy(known), without its generic protocol
    elem.__dict__.update(known.__dict__)
    elem.file_tell = raw.value_tell
    return elem


def _meta_values(file_meta: Dataset) -> dict[str, str]:
    """File Meta values by keyword, as text, in keyword order (as ``Dataset.dir()`` lists them)."""
    found = {}
    charset = _charset_key(file_meta.original_character_set)
    for tag in file_meta.keys():  # noqa: SIM118  (keys only: values are read once, below)
        kw = keyword_for_tag(tag)
        if kw:
            found[kw] = _text(_converted(file_meta, tag, charset).value)
    return dict(sorted(found.items()))


class _Nameless:
    """A stream pydicom sees without a name, so it re-reads deferred values from the stream.

    Given an object with a ``name`` (an open file, a ZIP member, an image's
    stream), pydicom re-opens that *name as a path* to read a deferred value:
    another file's bytes, or a path a medium chose. Values over ``defer_size``
    are deferred so that a hostile declared length is never allocated.
    """

    def __init__(self, fp: BinaryIO) -> None:
        self._fp = fp

    def read(self, size: int = -1) -> bytes:
        return self._fp.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fp.seek(offset, whence)

    def tell(self) -> int:
        return self._fp.tell()


def _load(elem: DataElement) -> DataElement:
    """Read every nested value of an element now, while its stream is still open."""
    stack = list(elem.value) if elem.VR == "SQ" else []
    while stack:
        for nested in stack.pop():  # iterating converts raw and deferred elements
            if nested.VR == "SQ":
                stack.extend(nested.value)
    return elem


def _parse(fp: BinaryIO, where: str) -> Dataset:
    """pydicom, told to be tolerant and quiet; anything it cannot read is not DICOM."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(
                _Nameless(fp),  # read, seek and tell are all pydicom needs
                force=True,
                stop_before_pixels=True,
                defer_size=4096,
            )
            # A bare dataset (no DICM) is only DICOM if it names its SOP Class as a UID:
            # force=True otherwise "reads" text and PDFs as garbage elements.
            if not ds.file_meta and not _UID_RE.match(_text(ds.get("SOPClassUID", ""))):
                raise InvalidDicomError("no File Meta and no SOP Class UID")
        except Exception as exc:  # pydicom raises many types on damaged input
            if isinstance(exc, InputError):
                raise
            raise InputError(f"{where}: not DICOM ({type(exc).__name__}: {exc})") from None
    return ds


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """Silence pydicom's warnings about odd values within the block.

    On a vendor's medium such values are what the findings report, coded and
    once; pydicom's own warnings would repeat them, uncoded, on stderr.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"pydicom(\.|$)")
        yield


def file_meta_for(header: Header, transfer_syntax: str) -> FileMetaDataset:
    """A fresh File Meta for a dataset, with our Implementation Class UID (PS3.10 §7.1)."""
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = UID(header.sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(header.sop_instance_uid)
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return meta


def target_syntax(header: Header, transfer_syntaxes: Collection[str]) -> str | None:
    """The syntax to write: the file's own if the profile allows it, else ELE when uncompressed.

    ``None`` when the file is compressed in a syntax the profile does not allow:
    decompressing pixel data is not something mediakit does silently.
    """
    if header.transfer_syntax in transfer_syntaxes:
        return header.transfer_syntax
    if (
        header.transfer_syntax in UNCOMPRESSED | {DEFLATED_LE}
        and EXPLICIT_VR_LE in transfer_syntaxes
    ):
        return EXPLICIT_VR_LE
    return None


def copy_file(src: Path, out: BinaryIO) -> tuple[int, str]:
    """Copy ``src`` to ``out`` unchanged; return (bytes, SHA-256 hex)."""
    sha, count = hashlib.sha256(), 0
    with open(src, "rb") as fp:
        while chunk := fp.read(_COPY_CHUNK):
            sha.update(chunk)
            out.write(chunk)
            count += len(chunk)
    return count, sha.hexdigest()


_WORD_SIZE: Final = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
_ARRAY_CODE: Final = {2: "H", 4: "L", 8: "Q"}


def _swap_binary_words(ds: Dataset) -> None:
    """Byte-swap OW/OF/OL/OD/OV values read from big endian data (PS3.5 §7.3).

    pydicom converts numbers it parses (US, FL, ...) but writes these binary
    values as they are, which would scramble pixel data written little endian.
    Pixel Data swaps by Bits Allocated; other values by their VR's word size.
    Iterative over nested sequences.
    """
    stack = [ds]
    while stack:
        item = stack.pop()
        for elem in item:
            if elem.VR == "SQ":
                stack.extend(elem.value)
                continue
            size = _WORD_SIZE.get(str(elem.VR))
            if elem.tag == 0x7FE00010:
                bits = int(item.get("BitsAllocated", 16) or 16)
                size = bits // 8 if bits in (16, 32, 64) else None
            if size and isinstance(elem.value, bytes) and len(elem.value) % size == 0:
                words = array.array(_ARRAY_CODE[size], elem.value)
                words.byteswap()
                elem.value = words.tobytes()


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in large chunks."""
    sha = hashlib.sha256()
    with open(path, "rb") as fp:
        while chunk := fp.read(_COPY_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def read_dataset(source: Path | BinaryIO, where: str) -> Dataset:
    """A whole dataset, pixel data included, without its File Meta or any group 0002.

    For what needs every byte: re-encoding a file, sending it by C-STORE.

    Raises
    ------
    InputError
        When pydicom cannot read it (named ``where``, the reason).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(source, force=True)
        except Exception as exc:  # pydicom raises many types for damaged files
            raise InputError(f"{where}: cannot be read ({type(exc).__name__}: {exc})") from None
    for tag in [t for t in ds.keys() if t.group == 0x0002]:  # noqa: SIM118  (tags, not values)
        del ds[tag]
    return ds


_PADDING: Final = BaseTag(0xFFFCFFFC)  # Data Set Trailing Padding (PS3.10 §7.2)
_BINARY_VRS: Final = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})


def same_instance(a: Path, b: Path) -> bool:
    """Whether two files hold the same dataset, in whatever encoding.

    A transfer syntax says how an instance is encoded, not what it is (PS3.5 §10):
    the same instance exported bare in Implicit VR and burnt as a Part 10 file in
    Explicit VR is one instance. The datasets are compared element by element,
    nested sequences included, once decoded: the preamble, the File Meta (group
    0002), VR explicitness, byte order, group lengths and trailing padding do not
    count; every value does, pixel data included (binary values compared as
    little endian words). Encapsulated pixel data compares as its bytes, so the
    same image compressed otherwise differs. A file that cannot be read whole is
    never the same. Only the two datasets are held, for the time of the call.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            first = _decoded(a)
            second = _decoded(b)
            return _same_datasets(first, second)
        except OSError:
            raise  # the disk's fault, not a difference
        except Exception:  # InputError, or a value pydicom cannot decode: not the same
            return False


def _decoded(path: Path) -> Dataset:
    """The whole dataset, with big endian binary values turned little endian."""
    ds = read_dataset(path, str(path))
    if ds.original_encoding[1] is False:
        _swap_binary_words(ds)
    return ds


def _compared_tags(ds: Dataset) -> list[BaseTag]:
    """The tags that carry content: not group lengths, File Meta or trailing padding."""
    return sorted(
        t
        for t in ds.keys()  # noqa: SIM118  (tags, not values)
        if t.element != 0x0000 and t.group != 0x0002 and t != _PADDING
    )


def _same_datasets(first: Dataset, second: Dataset) -> bool:
    """Element by element, iteratively over nested items."""
    pending = [(first, second)]
    while pending:
        x, y = pending.pop()
        tags = _compared_tags(x)
        if tags != _compared_tags(y):
            return False
        for tag in tags:
            ex, ey = x[tag], y[tag]
            if ex.VR == "SQ" and ey.VR == "SQ":
                if len(ex.value) != len(ey.value):
                    return False
                pending.extend(zip(ex.value, ey.value, strict=True))
            elif not _same_value(ex, ey):
                return False
    return True


def _same_value(x: DataElement, y: DataElement) -> bool:
    """One element's value on both sides; a UN side is read with the other side's VR.

    Implicit VR gives elements the dictionary does not know (private ones) the VR
    UN and their bytes; Explicit VR gives them the VR the writer chose.
    """
    if x.VR == y.VR or (x.VR in _BINARY_VRS and y.VR in _BINARY_VRS):
        return bool(x.value == y.value)
    known, unknown = (y, x) if x.VR == "UN" else (x, y)
    if unknown.VR != "UN" or known.VR == "SQ" or not isinstance(unknown.value, bytes):
        return False
    raw = RawDataElement(
        unknown.tag, known.VR, len(unknown.value), unknown.value, 0, False, True, True, False
    )
    try:
        value = pydicom.values.convert_value(str(known.VR), raw)
    except Exception:  # bytes that are no value of that VR: different content
        return False
    return bool(value == known.value)


def rewrite(
    src: Path,
    dst: Path,
    header: Header,
    transfer_syntax: str,
    *,
    transform: Callable[[Dataset], None] | None = None,
) -> tuple[int, str]:
    """Re-encode ``src`` into the new file ``dst`` as a conformant Part 10 file.

    Writes a zero preamble, ``DICM``, a new File Meta and the dataset in
    ``transfer_syntax`` with every group 0002 element removed; the dataset's
    content is otherwise unchanged, unless ``transform`` (e.g. de-identification)
    changes it in place first: the File Meta then takes the SOP Class and
    Instance UIDs the transformed dataset has. Returns (bytes written, SHA-256 hex).

    Raises
    ------
    InputError
        When the dataset cannot be re-encoded (named file, reason).
    OSError
        When ``dst`` cannot be written (the disk is full): not the file's fault.
    """
    ds = read_dataset(src, str(src))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if header.transfer_syntax == EXPLICIT_VR_BE and transfer_syntax != EXPLICIT_VR_BE:
            _swap_binary_words(ds)
        if transform is not None:
            transform(ds)
            header = replace(
                header,
                sop_class_uid=_text(ds.get("SOPClassUID", "")),
                sop_instance_uid=_text(ds.get("SOPInstanceUID", "")),
            )
        ds.file_meta = file_meta_for(header, transfer_syntax)
        ds.preamble = b"\x00" * 128
        try:
            pydicom.dcmwrite(
                dst,
                ds,
                enforce_file_format=True,
                implicit_vr=transfer_syntax == IMPLICIT_VR_LE,
                little_endian=transfer_syntax != EXPLICIT_VR_BE,
            )
        except OSError:  # writing dst failed (a full disk): the caller's side, not the file's
            dst.unlink(missing_ok=True)
            raise
        except Exception as exc:  # conversions pydicom refuses
            dst.unlink(missing_ok=True)
            raise InputError(
                f"{src}: cannot be re-encoded as {transfer_syntax} ({type(exc).__name__}: {exc})"
            ) from None
    return dst.stat().st_size, sha256_of(dst)
