"""The write and verify stages of a build, for one volume or the several of a split.

Each volume is a complete, independent File-set (PS3.10 §8.1; PS3.11 D.2.1.1):
its own DICOMDIR and File-set UID, its PDI content (README.TXT, INDEX.HTM,
IHE_PDI/) and its ``SHA256.TXT`` manifest, which lists every other file,
PDI pages included. Every volume is written under a hidden name beside its
output and read back by a fresh reader (``verify``, the ``check`` runner)
against its manifest; only when all of them pass are they renamed into place,
so a failure leaves none of them, and no ``--keep-map`` file, under a final name.
A build killed outright (SIGKILL, power) leaves its hidden partial behind; the
next build of the same output removes it once its PID is gone.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from mediakit import pdi
from mediakit._types import Progress
from mediakit.check.runner import Report
from mediakit.dicomdir.encode import encode_dicomdir
from mediakit.dicomdir.model import Record
from mediakit.errors import InputError, InternalError, os_reason
from mediakit.findings import Severity, has_errors, plural
from mediakit.iso import Entry
from mediakit.manifest import MANIFEST_NAME, format_manifest
from mediakit.media import write_medium
from mediakit.part10 import sha256_of
from mediakit.profiles import Profile
from mediakit.split import Part

Format = Literal["iso", "dir", "zip"]
Verify = Callable[..., Report]  # check_medium(path, profile, expected=manifest)


@dataclass(frozen=True)
class Target:
    """One volume to write: its instances at their File IDs, its records, where it goes."""

    out: Path
    info: pdi.MediumInfo  # volume id, number, profile: also what README.TXT says
    roots: tuple[Record, ...]  # the PATIENT records of its DICOMDIR
    files: tuple[Entry, ...]  # every instance, at its File ID
    headers: Mapping[str, Dataset]  # SOP Instance UID -> header, for the PDI pages
    parts: tuple[Part, ...]  # which studies (whole or by series) it holds


@dataclass(frozen=True, slots=True)
class Written:
    """One volume written: where, its File-set, and which studies and series it holds."""

    output: Path
    volume_id: str
    fileset_uid: str
    instances: int
    bytes: int  # of the instances
    parts: tuple[Part, ...]
    manifest: tuple[tuple[str, str], ...]  # (File ID as A/B/C, SHA-256)
    verify: Report


class _Staged(NamedTuple):
    """A volume written and not yet checked: the fields of :class:`Written` before ``verify``."""

    output: Path
    volume_id: str
    fileset_uid: str
    instances: int
    bytes: int
    parts: tuple[Part, ...]
    manifest: tuple[tuple[str, str], ...]


def volume_outputs(out: Path, count: int) -> list[Path]:
    """``OUT`` for one volume; ``OUT-1``, ``OUT-2``, ... (before any suffix) for several."""
    if count <= 1:
        return [out]
    stem, suffix = (out.stem, out.suffix) if out.suffix else (out.name, "")
    return [out.with_name(f"{stem}-{n}{suffix}") for n in range(1, count + 1)]


def writable(out: Path) -> Path:
    """The folder ``out`` goes into, once sure ``out`` is new and the folder writable.

    Raises
    ------
    InputError
        When ``out`` exists or its folder is missing or read-only.
    """
    if out.exists() or out.is_symlink():
        raise InputError(f"{out}: already exists; mediakit never overwrites (remove it first)")
    parent = out.parent.resolve()
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise InputError(f"{out}: cannot write into {parent} (missing or not writable)")
    return parent


def write_volumes(
    targets: list[Target],
    staging: Path,
    profile: Profile,
    fmt: Format,
    *,
    verify: Verify,
    with_pdi: bool,
    keep_map: tuple[Path, Mapping[str, Any]] | None = None,
    progress: Progress | None = None,
) -> list[Written]:
    """Write and verify every volume under a hidden name; then rename them all into place.

    ``targets`` is taken: each is removed from the list before its volume is
    verified, so that no collected header is held while the verification reads
    every one again from the medium (the caller keeps none either). ``keep_map``
    is (FILE, mapping): written, owner-only, once every volume passed.

    Raises
    ------
    InputError
        When an output or the map cannot be written.
    InternalError
        When a volume just written fails its own check.
    """
    partials: list[Path] = []
    published: list[Path] = []
    written: list[Written] = []
    try:
        n = 0
        while targets:
            target, n = targets.pop(0), n + 1
            folder = staging / f"vol{n}"
            folder.mkdir()
            remove_stale_partials(target.out)
            partial = target.out.parent / f".{target.out.name}.partial-{os.getpid()}"
            partials.append(partial)
            staged = _write_one(target, folder, partial, profile, fmt, with_pdi, progress)
            del target  # its headers and records: verify reads the medium afresh
            written.append(_verified(staged, partial, profile, verify))
        if keep_map is not None:
            _write_map(*keep_map)
            published.append(keep_map[0])
        for partial, w in zip(partials, written, strict=True):
            _publish(partial, w.output)
            published.append(w.output)
    except BaseException:
        for path in published:  # every volume appears under its final name, or none does
            remove(path)
        raise
    finally:
        for partial in partials:
            remove(partial)
    return written


def _write_one(
    target: Target,
    folder: Path,
    partial: Path,
    profile: Profile,
    fmt: Format,
    with_pdi: bool,
    progress: Progress | None,
) -> _Staged:
    """Write the volume to ``partial``: what :class:`Written` says of it but its check."""
    vid = target.info.volume_id
    fileset_uid = generate_uid(
        entropy_srcs=["mediakit-fileset", vid, *sorted(target.headers)]
    )  # the same inputs give the same DICOMDIR; another File-set, another UID
    dicomdir = folder / "DICOMDIR"
    dicomdir.write_bytes(
        encode_dicomdir(list(target.roots), fileset_id=vid, fileset_uid=fileset_uid)
    )
    entries = [Entry(("DICOMDIR",), dicomdir, dicomdir.stat().st_size), *target.files]
    if with_pdi:  # before the manifest, so that it covers them
        pages = pdi.render_pdi(
            pdi.course(target.roots, target.headers),
            target.info,
            institutions=pdi.institutions(target.headers),
        )
        entries += _files(pages, folder)
    manifest = tuple(("/".join(e.file_id), sha256_of(e.source)) for e in entries)
    listing = folder / MANIFEST_NAME
    listing.write_bytes(format_manifest(manifest))
    entries.append(Entry((MANIFEST_NAME,), listing, listing.stat().st_size))
    udf = profile.filesystem.startswith("udf")
    write_medium(
        entries, partial, fmt=fmt, volume_id=vid, udf=udf, progress=progress, name=target.out
    )
    size = sum(e.size for e in target.files)
    return _Staged(target.out, vid, fileset_uid, len(target.files), size, target.parts, manifest)


def _verified(staged: _Staged, partial: Path, profile: Profile, verify: Verify) -> Written:
    """The volume staged, with the report of its own check, which must find no error."""
    report = verify(partial, profile, expected=dict(staged.manifest))
    if has_errors(report.findings):
        first = next(f for f in report.findings if f.severity is Severity.ERROR)
        raise InternalError(f"{staged.output}: the medium fails its own check ({first.line()})")
    return Written(*staged, verify=report)


def _files(files: Mapping[tuple[str, ...], bytes], folder: Path) -> list[Entry]:
    """Files made in memory (the PDI pages), put into ``folder`` to be streamed from disk."""
    entries = []
    for n, (file_id, data) in enumerate(sorted(files.items())):
        path = folder / f"pdi{n:06d}"
        path.write_bytes(data)
        entries.append(Entry(file_id, path, len(data)))
    return entries


def _write_map(path: Path, mapping: Mapping[str, Any]) -> None:
    """``--keep-map``: the re-identification key, a new file only its owner can read."""
    text = json.dumps(mapping, indent=2, ensure_ascii=False) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            fp.write(text)
    except OSError as exc:
        raise InputError(f"--keep-map {path}: cannot write: {os_reason(exc)}") from None


def volumes_doc(written: Sequence[Written]) -> list[dict[str, Any]]:
    """The ``volumes`` key of ``build --json``: what went where (keys in the README)."""
    return [
        {
            "output": str(w.output),
            "volume_id": w.volume_id,
            "fileset_uid": w.fileset_uid,
            "instances": w.instances,
            "bytes": w.bytes,
            "studies": [
                {"study_instance_uid": p.study, "whole": p.whole, "series": list(p.series)}
                for p in w.parts
            ],
        }
        for w in written
    ]


def volumes_text(written: Sequence[Written], fmt: str) -> list[str]:
    """One line per volume written, and which studies (or series of a study) it holds."""
    lines = []
    for n, w in enumerate(written, 1):
        lines.append(
            f"wrote {w.output} ({fmt}, volume {w.volume_id}, {n} of {len(written)}, "
            f"{plural(w.instances, 'instance')}); read back and verified"
        )
        for p in w.parts:
            held = "whole" if p.whole else f"{len(p.series)} of its series: {', '.join(p.series)}"
            lines.append(f"  study {p.study}: {held}")
    return lines


def _publish(partial: Path, out: Path) -> None:
    """Give a verified volume its final name, never replacing what is there by then.

    A file is hard-linked (which fails if ``out`` exists, even if it appeared
    while we built), then its partial name removed; where the file system has no
    hard links (FAT on a USB stick), and for a folder, it is renamed after a check.
    """
    if not partial.is_dir():
        try:
            os.link(partial, out)
        except FileExistsError:
            raise InputError(f"{out}: appeared while building; left as it is") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
                raise
        else:
            partial.unlink()
            return
    if out.exists() or out.is_symlink():
        raise InputError(f"{out}: appeared while building; left as it is")
    os.rename(partial, out)


@contextmanager
def staging_folder(out: Path) -> Iterator[Path]:
    """A private folder beside ``out`` for what a build makes before writing it.

    Re-encoded and de-identified copies are patient data: beside the output (mode
    0700), not in a shared /tmp, and a build killed before it cleans up leaves
    ``.NAME.staging-PID``, which the next build of the same output removes.
    """
    remove_stale_partials(out)
    folder = out.parent / f".{out.name}.staging-{os.getpid()}"
    remove(folder)  # a previous process with our PID, long gone
    try:
        folder.mkdir(mode=0o700)
    except OSError as exc:
        raise InputError(f"{out}: cannot write beside it ({os_reason(exc)})") from None
    try:
        yield folder
    finally:
        remove(folder)


def remove_stale_partials(out: Path) -> list[Path]:
    """Remove what killed builds of ``out`` left (``.NAME.partial-PID``, ``.NAME.staging-PID``).

    Only names of exactly that pattern, for this output, whose process no longer
    exists (a live build, ours or another's, keeps its partial); links are never
    followed or removed. Returns what was removed.
    """
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(?:partial|staging)-([0-9]{{1,10}})")
    removed = []
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return []
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if found is None or entry.is_symlink() or _alive(int(found.group(1))):
            continue
        remove(Path(entry.path))
        removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (one we may not signal exists too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False  # no process can have such an id
    return True


def remove(path: Path) -> None:
    """Remove a partial or published output (file or folder) if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


__all__ = [
    "Target",
    "Written",
    "remove",
    "remove_stale_partials",
    "staging_folder",
    "volume_outputs",
    "volumes_doc",
    "volumes_text",
    "writable",
    "write_volumes",
]
