"""ISO 9660 images, via pycdlib: master one from files on disk, and read one without mounting.

Writing (:func:`write_iso`) hands pycdlib file *paths*, so it opens each file
only while copying it and never holds file data in memory; the image is
mastered in one streamed pass. File IDs map to ISO 9660 names as PS3.12 F.3
says: ``A\\B\\C`` is ``/A/B/C.;1`` (no extension, version 1).

Reading (:func:`read_iso`) lets pycdlib parse the volume descriptors and the
directory hierarchy (it refuses directory loops), then lists every file with
the byte extents its directory records give, checked against the image's
size. File data is read by :class:`ExtentReader` straight from the image, so
files over 4 GiB (several directory records, ISO 9660 Level 3) come back whole,
which ``pycdlib.open_file_from_iso`` does not do (media-facts §9).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import pycdlib
from pycdlib.pycdlibexception import PyCdlibException

from mediakit import __version__
from mediakit._types import Progress
from mediakit.errors import InputError, MediaError, os_reason
from mediakit.findings import Finding, finding

BLOCK: Final = 2048  # logical block size of every CD/DVD/BD image (PS3.12 F; ECMA-119 6.1.2)
_PVD_SPACE_AT: Final = 16 * BLOCK + 80  # Volume Space Size, little-endian half (ECMA-119 8.4.8)
MAX_DIRECTORY_DEPTH: Final = 8  # ECMA-119 6.8.2.1: the root counts as level 1


@dataclass(frozen=True, slots=True)
class Entry:
    """One file to put on a medium: its File ID (or 8.3 name) and where its bytes are on disk."""

    file_id: tuple[str, ...]
    source: Path
    size: int


@dataclass(frozen=True, slots=True)
class IsoInfo:
    """What the volume descriptors of an image say."""

    volume_id: str  # Primary Volume Descriptor, bytes 41-72, trailing spaces removed
    interchange_level: int  # the lowest ISO 9660 level every name fits (1-4), as pycdlib reads it
    joliet: bool
    rock_ridge: bool
    udf: bool
    space_blocks: int  # Volume Space Size of the PVD
    image_bytes: int


@dataclass(frozen=True, slots=True)
class IsoFile:
    """One file on an image, as its ISO 9660 directory record(s) describe it."""

    path: str  # ISO 9660 path as recorded, without the leading '/', e.g. "PT000000/IM000000.;1"
    joliet_path: str | None  # the same file's Joliet path, when the image has Joliet
    size: int
    extents: tuple[tuple[int, int], ...]  # (byte offset in the image, length), in file order


def iso_name(file_id: Sequence[str]) -> str:
    """The ISO 9660 path of a File ID (PS3.12 F.3): ``('A', 'B')`` -> ``/A/B.;1``.

    A last component with an extension (``README.TXT``, not a DICOM file) keeps it.
    """
    *dirs, name = file_id
    return "/" + "/".join((*dirs, f"{name};1" if "." in name else f"{name}.;1"))


def _parents(entries: Sequence[Entry]) -> list[tuple[str, ...]]:
    """Every directory the entries need, parents before children."""
    dirs: dict[tuple[str, ...], None] = {}
    for e in entries:
        for depth in range(1, len(e.file_id)):
            dirs.setdefault(tuple(e.file_id[:depth]))
    return sorted(dirs, key=lambda d: (len(d), d))


def _progress_cb(progress: Progress) -> Callable[[int, int, Any], None]:
    """pycdlib's callback shape (done, total, opaque) for a :data:`Progress`."""
    return lambda done, total, _opaque: progress(done, total)


def write_iso(
    entries: Sequence[Entry],
    out: Path,
    *,
    volume_id: str,
    udf: bool = False,
    progress: Progress | None = None,
    name: Path | None = None,
) -> None:
    """Master an ISO 9660 Level 1 image (UDF 2.60 bridge when ``udf``) at ``out``.

    Parameters
    ----------
    entries
        The files; File ID components must already be Level 1 names
        (1-8 characters of A-Z 0-9 _), at most 7 directories deep.
    out
        The image to create; it must not exist.
    volume_id
        The Primary Volume Descriptor's Volume Identifier (= File-set ID).
    udf
        Add a UDF 2.60 file system bridged with ISO 9660 (Blu-ray profiles).
    progress
        Called with (bytes written, total bytes) while mastering.
    name
        What messages call the image (default ``out``).

    Raises
    ------
    InputError
        When a name or size does not fit, or ``out`` cannot be written.
    """
    shown = name or out
    if any(len(e.file_id) > MAX_DIRECTORY_DEPTH for e in entries):
        raise InputError(f"{shown}: a File ID is deeper than {MAX_DIRECTORY_DEPTH} levels")
    iso = pycdlib.PyCdlib()
    try:
        iso.new(
            interchange_level=1,
            vol_ident=volume_id,
            app_ident_str=f"MEDIAKIT {__version__}",
            udf="2.60" if udf else None,
        )
        for d in _parents(entries):
            iso.add_directory("/" + "/".join(d), udf_path="/" + "/".join(d) if udf else None)
        for e in entries:
            udf_path = "/" + "/".join(e.file_id) if udf else None
            iso.add_file(str(e.source), iso_path=iso_name(e.file_id), udf_path=udf_path)
        with open(out, "xb") as fp:
            report = None if progress is None else _progress_cb(progress)
            iso.write_fp(fp, blocksize=1 << 20, progress_cb=report)
            fp.flush()
            os.fsync(fp.fileno())
    except PyCdlibException as exc:
        raise InputError(f"{shown}: cannot master the image ({exc})") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot write: {os_reason(exc)}") from None
    finally:
        iso.close()


class ExtentReader(io.RawIOBase):
    """A read-only, seekable stream over a file's extents inside an open image."""

    def __init__(self, image: BinaryIO, extents: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self._image = image
        self._extents = extents
        self._size = sum(length for _, length in extents)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._pos)
        done, skip = 0, self._pos
        for start, length in self._extents:
            if done >= want:
                break
            if skip >= length:
                skip -= length
                continue
            take = min(length - skip, want - done)
            self._image.seek(start + skip)
            got = self._image.readinto(view[done : done + take])  # type: ignore[attr-defined]
            if not got:
                break
            done += got
            skip = 0
            if got < take:
                break
        self._pos += done
        return done


class ExtentStream(io.BufferedIOBase):
    """A buffered :class:`ExtentReader`, and deliberately not an ``io.BufferedReader``.

    Libraries treat a BufferedReader as an open file and re-open its ``name`` as
    a path (pydicom does, for deferred values); a file on an image has no path.
    """

    def __init__(self, image: BinaryIO, extents: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self._buffered = io.BufferedReader(ExtentReader(image, extents), 1 << 16)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._buffered.read(size)

    def read1(self, size: int = -1) -> bytes:
        return self._buffered.read1(size)

    def readinto(self, buffer: Any) -> int:
        return self._buffered.readinto(buffer)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._buffered.seek(offset, whence)

    def tell(self) -> int:
        return self._buffered.tell()

    def close(self) -> None:
        self._buffered.close()
        super().close()


def _text(value: bytes) -> str:
    return value.decode("latin-1").rstrip(" \0")


def _joliet_name(value: bytes) -> str:
    try:
        return value.decode("utf-16-be")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _walk(
    iso: Any, kind: str, image_bytes: int, found: list[Finding], *, cut: bool = False
) -> Iterator[tuple[str, Any, tuple[tuple[int, int], ...], int]]:
    """(path, record, extents, size) of every file in one namespace, iteratively.

    pycdlib quietly shortens a file whose extent runs past the end of the image
    to what is there; on an image cut short (``cut``) an extent that reaches the
    end is therefore one that ran past it.
    """
    decode = _joliet_name if kind == "joliet" else (lambda b: b.decode("latin-1"))
    stack: list[tuple[str, Any]] = [("", iso.get_record(**{f"{kind}_path": "/"}))]
    while stack:
        prefix, directory = stack.pop()
        # A file over 4 GiB has one record per extent (ECMA-119 9.1.6, multi-extent flag);
        # the first one leads to the others through data_continuation.
        continued = {id(r.data_continuation) for r in directory.children if r.data_continuation}
        for rec in directory.children:
            if rec.is_dot() or rec.is_dotdot() or id(rec) in continued:
                continue
            name = decode(rec.file_identifier())
            path = f"{prefix}{name}"
            if rec.is_dir():
                stack.append((f"{path}/", rec))
                continue
            if rec.rock_ridge is not None and rec.is_symlink():
                target = rec.rock_ridge.symlink_path().decode("latin-1", "replace")
                found.append(finding("S402", path, f"Rock Ridge symlink to {target!r}: skipped"))
                continue
            extents, size, part = [], 0, rec
            while part is not None:
                start = part.extent_location() * BLOCK
                length = part.get_data_length()
                if length and (
                    start + length > image_bytes or (cut and start + length == image_bytes)
                ):
                    found.append(
                        finding(
                            "V307",
                            path,
                            f"extent at {start:#x} + {length} bytes, image is {image_bytes} bytes",
                        )
                    )
                    break
                if length:
                    extents.append((start, length))
                size += length
                part = part.data_continuation
            else:
                yield path, rec, tuple(extents), size


def read_iso(image: BinaryIO, where: str) -> tuple[IsoInfo, list[IsoFile], list[Finding]]:
    """Parse an image: its volume descriptors, every file, and what is wrong with them.

    Raises
    ------
    MediaError
        When pycdlib cannot parse the image at all (not ISO 9660, damaged
        descriptors, a directory loop).
    """
    image.seek(0, io.SEEK_END)
    image_bytes = image.tell()
    image.seek(0)
    iso = pycdlib.PyCdlib()
    try:
        iso.open_fp(image)
    except Exception as exc:  # pycdlib on hostile bytes: KeyError, ValueError, struct.error...
        part = "volume descriptors, path table or directory records unreadable"
        raise _unreadable(where, image, image_bytes, part, exc) from None
    found: list[Finding] = []
    declared = int(iso.pvd.space_size) * BLOCK
    cut = image_bytes < declared
    if cut:
        found.append(
            finding("V307", where, f"image is {image_bytes:,} bytes, its PVD says {declared:,}")
        )
    try:
        joliet: dict[tuple[tuple[int, int], ...], str] = {}
        if iso.has_joliet():
            for path, _, extents, _ in _walk(iso, "joliet", image_bytes, [], cut=cut):
                joliet.setdefault(extents, path)
        files = [
            IsoFile(path, joliet.get(extents) if extents else None, size, extents)
            for path, _, extents, size in _walk(iso, "iso", image_bytes, found, cut=cut)
        ]
        info = IsoInfo(
            volume_id=_text(iso.pvd.volume_identifier),
            interchange_level=int(iso.interchange_level),
            joliet=iso.has_joliet(),
            rock_ridge=bool(iso.has_rock_ridge()),
            udf=iso.has_udf(),
            space_blocks=int(iso.pvd.space_size),
            image_bytes=image_bytes,
        )
    except Exception as exc:  # records pycdlib accepted but cannot follow
        part = "directory records cannot be followed"
        raise _unreadable(where, image, image_bytes, part, exc) from None
    finally:
        iso.close()
    return info, files, found


def _unreadable(
    where: str, image: BinaryIO, image_bytes: int, part: str, exc: Exception
) -> MediaError:
    """The V308 error for an image pycdlib cannot list: which part is damaged, and why."""
    if isinstance(exc, PyCdlibException):
        why = str(exc)
    elif isinstance(exc, KeyError):
        why = f"a directory record's extent {exc} is no directory of the path table"
    else:
        why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    image.seek(_PVD_SPACE_AT)
    raw = image.read(4)
    declared = int.from_bytes(raw, "little") * BLOCK if len(raw) == 4 else 0
    cut = (
        f"; the image is {image_bytes:,} bytes, its volume descriptor says {declared:,}: cut short"
        if image_bytes < declared
        else ""
    )
    return MediaError(f"{where}: ISO 9660 image damaged: {part} ({why}){cut}")
