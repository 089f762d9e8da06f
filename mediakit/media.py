"""One interface over every kind of medium: an ISO image, a folder, a DICOMDIR path, a ZIP.

A :class:`Medium` lists its files (:class:`MediaFile`) and opens each as a
seekable binary stream; nothing else in the reader touches the file system or
the image. Names on a medium are hostile: listing never follows a link out of
the medium (S402), never yields a ZIP member whose name climbs out (S401), and
:class:`Resolver` refuses any Referenced File ID that is not a plain relative
path before it looks for it (S401). Resolution is tolerant the way
media-facts §2 describes: exact first, then ignoring case, ``;n`` version and a
trailing ``.``, then with ``.dcm`` added; anything but the exact match is
reported by the caller (F203), several matches are ambiguous (F204).

:func:`write_medium` writes a list of :class:`~mediakit.iso.Entry` as an image,
a folder tree or a ZIP, always into a path that does not exist yet.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final, Literal, cast

from mediakit._types import Progress
from mediakit.errors import InputError, MediaError, os_reason
from mediakit.findings import Finding, finding
from mediakit.iso import BLOCK, Entry, ExtentStream, IsoInfo, read_iso, write_iso
from mediakit.ziparchive import BOMB_RATIO, BOMB_SIZE, ZipArchive, is_bomb

Kind = Literal["iso", "dir", "zip"]
_VERSION: Final = re.compile(r";[0-9]*$")  # ISO 9660 file version, ';1'
_CHUNK: Final = 1 << 20
_FSYNC_THREADS: Final = 8  # concurrent fsyncs share the file system's journal commits
_ISO_MAGIC_AT: Final = 16 * BLOCK + 1  # Volume Descriptor Set starts at sector 16 (ECMA-119 6.2.1)


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One file on a medium.

    ``raw`` is its name as the medium records it ('/'-separated, relative);
    ``parts`` are the components a File ID is compared with: for ISO 9660 the
    ``;1`` version and the empty extension's '.' are removed (PS3.12 F.3).
    ``alias`` is another name the medium gives the same file (Joliet).
    """

    raw: str
    parts: tuple[str, ...]
    size: int
    alias: tuple[str, ...] | None = None
    handle: object = field(default=None, compare=False, repr=False)


def iso9660_parts(path: str) -> tuple[str, ...]:
    """File ID components of an ISO 9660 path: ``A/B.;1`` -> ``('A', 'B')``."""
    return tuple(_VERSION.sub("", c).removesuffix(".") for c in path.split("/"))


class Medium:
    """The common interface; use :func:`open_medium` to get one."""

    kind: Kind
    label: str  # the path the user gave
    volume_id: str | None = None
    iso: IsoInfo | None = None

    def __init__(self, label: str, files: list[MediaFile], found: list[Finding]) -> None:
        self.label = label
        self._files = files
        self._findings = found

    @property
    def total_bytes(self) -> int:
        """The size of the medium's content: the image, or the sum of its files."""
        return sum(f.size for f in self._files)

    def files(self) -> Sequence[MediaFile]:
        """Every regular file on the medium, sorted by name."""
        return self._files

    def findings(self) -> Sequence[Finding]:
        """What listing the medium found wrong (links, names, extents)."""
        return self._findings

    def open(self, f: MediaFile) -> BinaryIO:
        """A seekable binary stream of one file's bytes; close it (or use ``with``)."""
        raise NotImplementedError

    def read_bytes(self, f: MediaFile, limit: int) -> bytes:
        """A whole (small) file, refusing one larger than ``limit`` bytes before reading it."""
        if f.size > limit:
            raise MediaError(f"{f.raw}: {f.size:,} bytes, more than the {limit:,} allowed here")
        with self.open(f) as fp:
            data = fp.read(limit + 1)
        if len(data) > limit:
            raise MediaError(f"{f.raw}: longer than its recorded size")
        return data

    def close(self) -> None:
        """Release the image or archive."""

    def __enter__(self) -> Medium:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FolderMedium(Medium):
    """A mounted disc, a USB stick or a copied tree: a folder on the local file system."""

    kind: Kind = "dir"

    def __init__(self, root: Path, label: str) -> None:
        self.root = root.resolve()
        found: list[Finding] = []
        super().__init__(label, list(self._list(found)), found)

    def _list(self, found: list[Finding]) -> Iterator[MediaFile]:
        """Regular files below the root, sorted, iteratively; links must stay inside (S402)."""
        stack: list[tuple[str, ...]] = [()]
        while stack:
            rel = stack.pop()
            here = self.root.joinpath(*rel)
            try:
                entries = sorted(os.scandir(here), key=lambda e: e.name)
            except OSError as exc:
                found.append(finding("S402", "/".join(rel) or ".", f"cannot list ({exc.strerror})"))
                continue
            subdirs = []
            for entry in entries:
                parts = (*rel, entry.name)
                raw = "/".join(parts)
                try:
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISLNK(st.st_mode):
                        target = Path(os.path.realpath(entry.path))  # never raises on a loop
                        if not target.is_relative_to(self.root):
                            found.append(finding("S402", raw, f"-> {os.readlink(entry.path)}"))
                            continue
                        if (why := _link_problem(entry.path)) is not None:
                            found.append(finding("S404", raw, why))
                            continue
                        st = os.stat(entry.path)
                        if not stat.S_ISREG(st.st_mode):
                            continue  # a link to a folder inside: its files are listed there
                    if stat.S_ISDIR(st.st_mode):
                        subdirs.append(parts)
                    elif stat.S_ISREG(st.st_mode):
                        yield MediaFile(raw, parts, st.st_size, handle=Path(entry.path))
                except OSError:
                    continue  # vanished or dangling: nothing to read
            stack.extend(reversed(subdirs))

    def open(self, f: MediaFile) -> BinaryIO:
        assert isinstance(f.handle, Path)
        try:
            return open(f.handle, "rb")
        except OSError as exc:
            raise MediaError(f"{f.raw}: cannot read ({exc.strerror})") from None


def _link_problem(path: str) -> str | None:
    """Why a symbolic link inside the medium cannot be followed (S404), or None."""
    try:
        os.stat(path)
    except OSError as exc:
        link = os.readlink(path)
        if exc.errno == errno.ELOOP:
            return f"-> {link}: the links loop back on themselves"
        if exc.errno == errno.ENOENT:
            return f"-> {link}: points at nothing (dangling)"
        return f"-> {link}: cannot be followed ({exc.strerror})"
    return None


class IsoMedium(Medium):
    """An ISO 9660 image, parsed by pycdlib, never mounted."""

    kind: Kind = "iso"

    def __init__(self, path: Path, label: str) -> None:
        try:
            self._image = open(path, "rb")  # noqa: SIM115  (held open until close())
        except OSError as exc:
            raise InputError(f"{label}: cannot read ({exc.strerror})") from None
        try:
            info, iso_files, found = read_iso(self._image, label)
        except MediaError:
            self._image.close()
            raise
        self.iso = info
        self.volume_id = info.volume_id
        files = [
            MediaFile(
                f.path,
                iso9660_parts(f.path),
                f.size,
                alias=tuple(f.joliet_path.split("/")) if f.joliet_path else None,
                handle=f.extents,
            )
            for f in sorted(iso_files, key=lambda f: f.path)
        ]
        super().__init__(label, files, found)

    @property
    def total_bytes(self) -> int:
        assert self.iso is not None
        return self.iso.image_bytes

    def open(self, f: MediaFile) -> BinaryIO:
        assert isinstance(f.handle, tuple)
        return cast(BinaryIO, ExtentStream(self._image, f.handle))  # a BufferedIOBase

    def close(self) -> None:
        self._image.close()


def _member_problem(name: str) -> str | None:
    """Why a ZIP member name may not be used, or None (PS3.10 §8.2: relative, no '..')."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if "\0" in name:
        return "NUL in the name"
    if any(p in (".", "..") for p in parts):
        return "'..' or '.' component"
    return None


class ZipMedium(Medium):
    """A ZIP archive (STD-GEN-ZIP-MAIL style, or any archive of a File-set)."""

    kind: Kind = "zip"

    def __init__(self, path: Path, label: str) -> None:
        self._zip = ZipArchive(path, label)
        found: list[Finding] = []
        named: dict[tuple[str, ...], list[zipfile.ZipInfo]] = defaultdict(list)
        for info in self._zip.members:
            if info.is_dir():
                continue
            name = info.filename
            if (why := _member_problem(name)) is not None:
                found.append(finding("S401", name, f"ZIP member name: {why}: skipped"))
            elif stat.S_ISLNK(info.external_attr >> 16):
                found.append(finding("S402", name, "ZIP member is a symbolic link: skipped"))
            elif is_bomb(info.file_size, info.compress_size):
                found.append(finding("S405", name, _bomb(info)))
            else:
                named[tuple(p for p in name.replace("\\", "/").split("/") if p)].append(info)
        files = []
        for parts, infos in named.items():
            if len(infos) > 1:
                found.append(finding("F204", "/".join(parts), _duplicates(infos)))
            info = infos[-1]  # the one zipfile's name lookup gives
            files.append(MediaFile("/".join(parts), parts, info.file_size, handle=info))
        super().__init__(label, sorted(files, key=lambda f: f.raw), found)

    def open(self, f: MediaFile) -> BinaryIO:
        assert isinstance(f.handle, zipfile.ZipInfo)
        return cast(BinaryIO, self._zip.open(f.handle))  # a BufferedIOBase

    def close(self) -> None:
        self._zip.close()


def _bomb(info: zipfile.ZipInfo) -> str:
    return (
        f"ZIP member claims {info.file_size:,} bytes from {info.compress_size:,} "
        f"(more than {BOMB_SIZE >> 20} MiB at more than {BOMB_RATIO}:1): skipped"
    )


def _duplicates(infos: Sequence[zipfile.ZipInfo]) -> str:
    sizes = ", ".join(f"{i.file_size:,}" for i in infos)
    return (
        f"{len(infos)} ZIP members under this name (sizes {sizes} bytes): "
        "the last one is read, the others are ignored"
    )


def medium_kind(path: Path) -> Kind | None:
    """What a path holds: a folder, an ISO 9660 image or a ZIP (by content), or None."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            return "dir"
        return _sniff(path) if stat.S_ISREG(mode) else None
    except OSError:
        return None


def _special_kind(mode: int) -> str:
    """What a path that is neither a regular file nor a folder is, in words."""
    for test, name in (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _sniff(path: Path) -> Kind | None:
    with open(path, "rb") as fp:
        head = fp.read(4)
        fp.seek(_ISO_MAGIC_AT)
        if fp.read(5) == b"CD001":
            return "iso"
    return "zip" if head in (b"PK\x03\x04", b"PK\x05\x06") else None


def open_medium(path: Path) -> Medium:
    """Open an ``.iso`` image, a folder, a ``DICOMDIR`` (its folder is the medium) or a ZIP.

    The kind is decided by content, not by the name's extension.

    Raises
    ------
    InputError
        When ``path`` does not exist, cannot be read or is none of these.
    MediaError
        When an image or archive is too damaged to list.
    """
    label = str(path)
    try:
        mode = os.stat(path).st_mode  # never open() a FIFO or a device: that can block forever
    except FileNotFoundError:
        raise InputError(f"{label}: no such file or folder") from None
    except OSError as exc:
        raise InputError(f"{label}: cannot read ({os_reason(exc)})") from None
    if stat.S_ISDIR(mode):
        return FolderMedium(path, label)
    if not stat.S_ISREG(mode):
        raise InputError(f"{label}: {_special_kind(mode)}, not an image, a ZIP or a folder")
    try:
        kind = _sniff(path)
    except OSError as exc:
        raise InputError(f"{label}: cannot read ({exc.strerror})") from None
    if kind == "iso":
        return IsoMedium(path, label)
    if kind == "zip":
        return ZipMedium(path, label)
    if iso9660_parts(path.name)[0].upper() == "DICOMDIR":
        return FolderMedium(path.parent, label)
    raise InputError(f"{label}: not an ISO 9660 image, a ZIP, a folder or a DICOMDIR")


# --- resolving Referenced File IDs ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a File ID led: a file (``exact`` or tolerantly), nothing, or a refusal."""

    file: MediaFile | None
    exact: bool = False
    unsafe: str | None = None  # why the File ID was refused (S401)
    candidates: int = 0  # files the tolerant match found (more than one: F204)


_DRIVE: Final = re.compile(r"[A-Za-z]:")


def unsafe_file_id(file_id: Sequence[str]) -> str | None:
    """Why a File ID is not a plain relative path inside the medium, or None (PS3.10 §8.2)."""
    if not file_id:
        return "empty"
    if file_id[0] == "":
        return "absolute path"
    for c in file_id:
        if c in ("", ".", ".."):
            return f"{c!r} component"
        if "\0" in c:
            return "NUL in a component"
        if "/" in c or "\\" in c:
            return "path separator inside a component"
        if _DRIVE.match(c):
            return "drive letter"
        if len(c) > 255:
            return "component longer than 255 characters"
    return None


def _fold(component: str) -> str:
    return _VERSION.sub("", component).removesuffix(".").casefold()


class Resolver:
    """Finds the file a Referenced File ID names, tolerantly and safely (media-facts §2)."""

    def __init__(self, medium: Medium) -> None:
        self._exact: dict[tuple[str, ...], MediaFile] = {}
        self._folded: dict[tuple[str, ...], list[MediaFile]] = defaultdict(list)
        for f in medium.files():
            for parts in (f.parts, f.alias):
                if parts is None:
                    continue
                self._exact.setdefault(parts, f)
                bucket = self._folded[tuple(_fold(c) for c in parts)]
                if f not in bucket:
                    bucket.append(f)

    def resolve(self, file_id: Sequence[str]) -> Resolution:
        """The file for ``file_id``: exact, then case/version-insensitive, then with '.dcm'."""
        if (why := unsafe_file_id(file_id)) is not None:
            return Resolution(None, unsafe=why)
        parts = tuple(file_id)
        if (f := self._exact.get(parts)) is not None:
            return Resolution(f, exact=True, candidates=1)
        folded = tuple(_fold(c) for c in parts)
        for key in (folded, (*folded[:-1], folded[-1] + ".dcm")):
            found = self._folded.get(key, [])
            if len(found) == 1:
                return Resolution(found[0], candidates=1)
            if found:
                return Resolution(None, candidates=len(found))
        return Resolution(None)


# --- writing ---------------------------------------------------------------------------------


def _copy(src: Path, dst: BinaryIO, done: int, total: int, progress: Progress | None) -> int:
    with open(src, "rb") as fp:
        while chunk := fp.read(_CHUNK):
            dst.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return done


def fsync_path(path: Path) -> None:
    """Make a file's data, or a folder's entries (a rename, a new file), durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_dir(entries: Sequence[Entry], out: Path, progress: Progress | None) -> None:
    """Write the tree, then make every file and folder durable before returning.

    The fsyncs come after the last file is written, several at a time: one disk
    flush per file in turn cost more than writing the files (benchmarks/); the
    caller still renames the tree into place only after all of them returned.
    """
    out.mkdir()
    total, done = sum(e.size for e in entries), 0
    written: list[Path] = []
    folders: dict[Path, None] = {out: None}
    for e in entries:
        dst = out.joinpath(*e.file_id)
        if dst.parent not in folders:
            dst.parent.mkdir(parents=True, exist_ok=True)
            folders.update((d, None) for d in (dst.parent, *dst.parent.parents) if out in d.parents)
        with open(dst, "xb") as fp:
            done = _copy(e.source, fp, done, total, progress)
        written.append(dst)
    with ThreadPoolExecutor(_FSYNC_THREADS) as pool:
        list(pool.map(fsync_path, [*written, *folders]))


def _write_zip(entries: Sequence[Entry], out: Path, progress: Progress | None) -> None:
    total, done = sum(e.size for e in entries), 0
    with open(out, "xb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
        for e in entries:
            info = zipfile.ZipInfo("/".join(e.file_id), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            with zf.open(info, "w", force_zip64=e.size >= 1 << 31) as fp:
                done = _copy(e.source, fp, done, total, progress)  # type: ignore[arg-type]
        zf.close()
        raw.flush()
        os.fsync(raw.fileno())


def write_medium(
    entries: Sequence[Entry],
    out: Path,
    *,
    fmt: Kind,
    volume_id: str,
    udf: bool = False,
    progress: Progress | None = None,
    name: Path | None = None,
) -> None:
    """Write ``entries`` at ``out`` (which must not exist) as an image, a folder or a ZIP.

    ``name`` is what messages call the output (the final name when ``out`` is a
    hidden partial beside it).

    Raises
    ------
    InputError
        When ``out`` cannot be written (the message names it and says why: a full
        disk says "the disk is full").
    """
    shown = name or out
    try:
        if fmt == "iso":
            write_iso(entries, out, volume_id=volume_id, udf=udf, progress=progress, name=shown)
        elif fmt == "dir":
            _write_dir(entries, out, progress)
        else:
            _write_zip(entries, out, progress)
    except OSError as exc:
        raise InputError(f"{shown}: cannot write: {os_reason(exc)}") from None
