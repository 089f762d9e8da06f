"""Collect build inputs: files, folders (recursive), ZIP archives and existing media.

One instance per SOP Instance UID: the same instance given twice is kept once
(also when it comes in another encoding: F208), two different contents under one
UID is an F206 error. Only headers are read, except for the rare duplicate UID
whose bytes differ, which is decided on the two whole datasets.
A file with 'DICM' at byte 128 that cannot be read is damaged, an error finding
(P109, P106), never skipped; a file that is plainly not DICOM is skipped (F207)
in a folder, and refused (exit 2) when named.
A medium given as input (an image, a ZIP, a folder with a DICOMDIR) brings its
instances; its DICOMDIR, SHA-256 manifest and IHE PDI content (README.TXT,
INDEX.HTM, IHE_PDI/) are rebuilt, so they are left out.
Members of ZIPs and media are extracted to ``staging`` first, because the
writers stream every file from a path on disk.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mediakit._types import Progress
from mediakit.errors import DamagedFileError, InputError, MediakitError
from mediakit.findings import Finding, Severity, finding
from mediakit.manifest import MANIFEST_NAME
from mediakit.media import iso9660_parts, open_medium
from mediakit.part10 import (
    MEDIA_STORAGE_DIRECTORY,
    Header,
    read_header,
    same_instance,
    sha256_of,
)

# What a medium's root holds besides its DICOM files, and a new medium rebuilds:
# the manifest, and the IHE PDI files and folder (RAD TF-3 4.47; mediakit.pdi).
_REBUILT = frozenset({MANIFEST_NAME, "README.TXT", "INDEX.HTM", "IHE_PDI"})


@dataclass(frozen=True, slots=True)
class Instance:
    """One input instance: where its bytes are and what its header says."""

    path: Path
    label: str  # how to name it in findings: the path the user gave, or archive:member
    header: Header
    named: bool = False  # a file named on the command line (not found in a folder or archive)


@dataclass(frozen=True, slots=True)
class Collected:
    """The instances found, sorted by SOP Instance UID, and what was skipped or wrong."""

    instances: tuple[Instance, ...]
    findings: tuple[Finding, ...]


def _is_medium(path: Path) -> bool:
    """An .iso or .zip file (by content), or a folder with a DICOMDIR is walked as files."""
    if not path.is_file():
        return False
    with open(path, "rb") as fp:
        head = fp.read(4)
        fp.seek(32769)
        iso = fp.read(5) == b"CD001"
    return iso or head == b"PK\x03\x04"


def _walk(folder: Path) -> Iterator[Path]:
    """Regular files below ``folder``, sorted, iteratively, not following symlinked folders."""
    stack = [folder]
    while stack:
        here = stack.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError as exc:
            raise InputError(f"{here}: cannot list ({exc.strerror})") from None
        dirs = []
        medium_root = any(e.name == "DICOMDIR" for e in entries)
        for entry in entries:
            if medium_root and entry.name.upper() in _REBUILT:
                continue
            if entry.is_dir(follow_symlinks=False):
                dirs.append(Path(entry.path))
            elif entry.is_file():
                yield Path(entry.path)
        stack.extend(reversed(dirs))


def _extract(archive: Path, staging: Path) -> Iterator[tuple[Path, str]]:
    """Copy each file of an archive or medium into ``staging``; yield (path, label)."""
    with open_medium(archive) as medium:
        for n, f in enumerate(medium.files()):
            if f.parts[0].upper() in _REBUILT:
                continue  # the medium's own manifest and PDI pages: the new medium gets its own
            dst = staging / f"in{n:08d}"
            with medium.open(f) as src, open(dst, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            yield dst, f"{archive}:{f.raw}"


def collect(
    sources: Sequence[Path],
    staging: Path,
    *,
    keywords: Collection[str],
    progress: Progress | None = None,
) -> Collected:
    """Read the header of every input file and keep one instance per SOP Instance UID.

    A ``DICOMDIR`` named stands for its medium, the folder it is in (as ``open_medium``
    reads it). Of two inputs with one SOP Instance UID, the first is kept (a named
    file before one found in a folder) when their bytes, or else their decoded
    datasets (:func:`mediakit.part10.same_instance`), are the same; F208 says so when
    only the encoding differed. Otherwise the second is an F206 error.

    Raises
    ------
    InputError
        A path that does not exist or is no regular file, folder or medium (a device,
        a FIFO: never read), or a file named explicitly that is not DICOM.
    """
    candidates: list[tuple[Path, str, bool]] = []  # (path, label, named explicitly)
    for src in sources:
        if not src.exists():
            raise InputError(f"{src}: no such file or folder")
        if src.is_dir():
            candidates.extend((p, str(p), False) for p in _walk(src))
        elif not src.is_file():  # never read: /dev/zero, a FIFO would block or never end
            raise InputError(
                f"{src}: not a regular file (a device, FIFO or socket); "
                "give files, folders, ZIP archives or images"
            )
        elif iso9660_parts(src.name)[0].upper() == "DICOMDIR":  # a medium, named by its DICOMDIR
            candidates.extend((p, str(p), False) for p in _walk(src.parent))
        elif _is_medium(src):
            staging.mkdir(parents=True, exist_ok=True)
            candidates.extend((p, label, False) for p, label in _extract(src, staging))
        else:
            candidates.append((src, str(src), True))

    found: list[Finding] = []
    by_uid: dict[str, Instance] = {}
    for done, (path, label, named) in enumerate(candidates, 1):
        if progress:
            progress(done, len(candidates))
        try:
            header = read_header(path, keywords=keywords)
        except DamagedFileError as exc:  # DICOM, but cut or garbled: never skipped silently
            found.append(finding(exc.code, label, exc.detail))
            continue
        except MediakitError as exc:
            if named:
                raise
            found.append(finding("F207", label, str(exc).removeprefix(f"{path}: ")))
            continue
        if header.meta.get("MediaStorageSOPClassUID") == MEDIA_STORAGE_DIRECTORY:
            continue  # a DICOMDIR (or a vendor's lower-level one): directories are rebuilt
        if not header.sop_instance_uid:
            if header.truncated is not None:  # cut before its UID: the cut is the truth
                found.append(finding("P109", label, header.truncated))
            else:
                found.append(finding("P108", label, "SOPInstanceUID missing"))
            continue
        instance = Instance(path, label, header, named)
        seen = by_uid.get(header.sop_instance_uid)
        if seen is None:
            by_uid[header.sop_instance_uid] = instance
            continue
        same_bytes = _same_bytes(seen.path, path)
        if not same_bytes and not same_instance(seen.path, path):
            found.append(finding("F206", label, f"{header.sop_instance_uid} also in {seen.label}"))
            continue
        kept, dropped = (instance, seen) if named and not seen.named else (seen, instance)
        by_uid[header.sop_instance_uid] = kept  # a file named counts as named, also in a folder
        if not same_bytes:
            found.append(
                finding(
                    "F208",
                    dropped.label,
                    f"{header.sop_instance_uid}: the same dataset as {kept.label}, "
                    f"encoded otherwise ({dropped.header.transfer_syntax} / "
                    f"{kept.header.transfer_syntax}); {kept.label} kept",
                    severity=Severity.INFO,
                )
            )
    return Collected(tuple(by_uid[u] for u in sorted(by_uid)), tuple(found))


def _same_bytes(a: Path, b: Path) -> bool:
    """Byte-identical files (sizes first, then hashes)."""
    return a.stat().st_size == b.stat().st_size and sha256_of(a) == sha256_of(b)
