"""Reading a ZIP archive that may be hostile or damaged: members as bounded, guarded streams.

zipfile raises whatever its layers raise on damaged bytes (BadZipFile for a
CRC-32 mismatch, zlib.error for a corrupt deflate stream, EOFError for a cut
member, struct.error or ValueError for garbled headers). Here each of those
becomes a :class:`~mediakit.errors.MediaError` naming the member and the damage,
with the finding code its file gets (V308), so one damaged member is one
finding and the rest of the archive is still read.

A member is a ZIP bomb (S405) when it inflates to more than :data:`BOMB_SIZE`
bytes at a ratio above :data:`BOMB_RATIO`: refused when its header says so, and
reading stops at the limit when the header lied. Nothing is ever allocated
from a size the archive claims: members are read in bounded chunks. Several
members under one name (F204) are reported; the last one is the one read, as
zipfile's own name lookup does.
"""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Final

from mediakit.errors import MediaError

BOMB_SIZE: Final = 64 << 20  # a member may inflate to this much at any ratio
BOMB_RATIO: Final = 100  # beyond BOMB_SIZE, at most this many bytes out per byte in
_CHUNK: Final = 1 << 20

# What zipfile and its decompressors raise on damaged bytes.
DAMAGE: Final = (
    OSError,
    EOFError,
    ValueError,
    struct.error,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    NotImplementedError,  # a compression method zipfile cannot read
    RuntimeError,  # an encrypted member
)


def damage(exc: BaseException) -> str:
    """Why zipfile failed, in words a user can act on."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, zipfile.BadZipFile) and "CRC" in text:
        return "CRC-32 mismatch: its bytes are not the ones stored"
    if isinstance(exc, zlib.error | lzma.LZMAError):
        return f"compressed data corrupt ({text})"
    if isinstance(exc, EOFError):
        return "cut short: compressed data ends before the member does"
    if isinstance(exc, RuntimeError) and "encrypted" in text:
        return "encrypted"
    if isinstance(exc, NotImplementedError):
        return f"compression method not supported ({text})"
    return f"{type(exc).__name__}: {text}"


def damaged_member(info: zipfile.ZipInfo, exc: BaseException) -> MediaError:
    """The per-file error (V308) for a member zipfile could not open or read."""
    return MediaError(f"{info.filename}: ZIP member damaged: {damage(exc)}", code="V308")


def is_bomb(size: int, compressed: int) -> bool:
    """Whether ``size`` bytes inflated from ``compressed`` are a ZIP bomb (S405)."""
    return size > BOMB_SIZE and size > BOMB_RATIO * max(compressed, 1)


class ZipArchive:
    """An open archive: its members (last one of each name) and guarded streams of them."""

    def __init__(self, path: Path, label: str) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except DAMAGE as exc:
            raise MediaError(
                f"{label}: ZIP archive damaged: central directory unreadable ({damage(exc)})"
            ) from None
        self.label = label
        self.members: Sequence[zipfile.ZipInfo] = infos

    def open(self, info: zipfile.ZipInfo) -> MemberStream:
        """A seekable stream of one member; damage while reading raises MediaError (V308)."""
        try:
            raw = self._zip.open(info)
        except DAMAGE as exc:
            raise damaged_member(info, exc) from None
        return MemberStream(raw, info)

    def close(self) -> None:
        self._zip.close()


class MemberStream(io.BufferedIOBase):
    """A member's bytes; stops with a MediaError at damage or at the bomb limit."""

    def __init__(self, raw: IO[bytes], info: zipfile.ZipInfo) -> None:
        super().__init__()
        self._raw, self._info = raw, info

    def _guard(self) -> None:
        pos = self._raw.tell()
        if is_bomb(pos, self._info.compress_size):
            raise MediaError(
                f"{self._info.filename}: ZIP member inflates past {BOMB_SIZE >> 20} MiB "
                f"from {self._info.compress_size:,} bytes (more than {BOMB_RATIO}:1): "
                "reading stopped",
                code="S405",
            )

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:  # to the end, in chunks: the guard runs after each
            return b"".join(iter(lambda: self.read(_CHUNK), b""))
        try:
            data = self._raw.read(size)
        except DAMAGE as exc:
            raise damaged_member(self._info, exc) from None
        self._guard()
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            pos = self._raw.seek(offset, whence)  # forward: inflates up to there
        except DAMAGE as exc:
            raise damaged_member(self._info, exc) from None
        self._guard()
        return pos

    def tell(self) -> int:
        return self._raw.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()
        super().close()
