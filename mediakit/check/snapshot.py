"""Read a medium once into a :class:`Snapshot` that the checks (pure functions) inspect.

This is the only module of ``check`` that does I/O. Every file is opened once:
the first 132 bytes tell whether it is a Part 10 file; those and the files the
DICOMDIR references get their header read (never pixel data); with a manifest
to verify (given by the caller, or the medium's own ``SHA256.TXT``), every file
is also hashed in the same pass.
"""

from __future__ import annotations

import hashlib
import io
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Final

from mediakit._types import Progress
from mediakit.dicomdir.layout import all_keywords
from mediakit.dicomdir.model import Record, walk_all
from mediakit.dicomdir.parse import ParsedDirectory, parse_dicomdir
from mediakit.errors import DamagedFileError, MediaError, MediakitError
from mediakit.findings import Finding, finding
from mediakit.iso import IsoInfo
from mediakit.manifest import MANIFEST_LIMIT, MANIFEST_NAME, parse_manifest
from mediakit.media import MediaFile, Medium, Resolution, Resolver
from mediakit.part10 import MEDIA_STORAGE_DIRECTORY, Header, read_header_stream
from mediakit.profiles import Profile, load_profile, profile_ids
from mediakit.rt import KEYWORDS as RT_KEYWORDS

DICOMDIR_LIMIT: Final = 256 << 20  # a 200k-record DICOMDIR is ~50 MB; beyond this is hostile
LOWER_LEVEL_LIMIT: Final = 1 << 30  # all vendor lower-level directory files together
_CHUNK: Final = 1 << 20
_IN_MEMORY: Final = 1 << 20  # files up to this size are read whole, once


@dataclass(frozen=True, slots=True)
class FileFacts:
    """One file on the medium: its header if it is DICOM, else why not."""

    file: MediaFile
    header: Header | None
    error: str | None  # set when the file was expected to be DICOM and is not
    sha256: str | None
    damaged: str | None = None  # the code of a DICOM file ('DICM') that cannot be read


@dataclass(frozen=True)
class Snapshot:
    """Everything the checks look at, read from the medium once."""

    label: str
    kind: str
    volume_id: str | None
    iso: IsoInfo | None
    total_bytes: int
    files: tuple[FileFacts, ...]  # every file except the DICOMDIR itself
    dicomdir: MediaFile | None
    directory: ParsedDirectory | None
    resolutions: Mapping[int, Resolution]  # id(record) -> where its File ID led
    facts: Mapping[tuple[str, ...], FileFacts]  # by MediaFile.parts
    findings: tuple[Finding, ...]  # found while reading (medium listing, DICOMDIR access)
    expected: Mapping[str, str] | None = field(default=None)  # manifest: File ID -> SHA-256
    manifest: MediaFile | None = None  # the medium's SHA256.TXT, when it has one
    dicomdir_sha256: str | None = None
    parents: Mapping[int, Record] = field(default_factory=dict)  # id(child) -> parent record
    # manifest File ID -> the file it names, found as Referenced File IDs are (case, ';1')
    located: Mapping[str, MediaFile | None] = field(default_factory=dict)
    # What checks derive from the snapshot alone (the RT graph), computed once for every
    # profile the runner tries; never part of the snapshot's value.
    derived: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def facts_for(self, record: Record) -> FileFacts | None:
        """The file a record references, when it was found on the medium."""
        res = self.resolutions.get(id(record))
        if res is None or res.file is None:
            return None
        return self.facts.get(res.file.parts)

    def expected_sha256(self, file: MediaFile) -> str | None:
        """The manifest's SHA-256 for ``file``, or None when it lists no such file.

        A manifest name names the file it was resolved to (``located``): as Referenced File
        IDs are, case- and ';1'-insensitively, since a CD copied off a Linux mount
        (``map=normal``) has lowercase names (PS3.10 §8.5: uppercase only).
        """
        if self.expected is None:
            return None
        if (exact := self.expected.get("/".join(file.parts))) is not None:
            return exact
        by_file = self.derived.get("expected_by_file")
        if not isinstance(by_file, dict):
            by_file = {f.parts: self.expected[n] for n, f in self.located.items() if f is not None}
            self.derived["expected_by_file"] = by_file
        got = by_file.get(file.parts)
        return str(got) if got is not None else None


def unreadable_snapshot(label: str, kind: str) -> Snapshot:
    """The snapshot of a medium that could not even be listed: nothing on it."""
    return Snapshot(label, kind, None, None, 0, (), None, None, {}, {}, ())


class _Kept(dict[tuple[str, ...], bytes]):
    """Small files already read whole (manifest, lower-level directories), so none is read twice.

    Bounded: a file over the budget is simply read again when its turn comes.
    """

    budget = 64 << 20

    def keep(self, f: MediaFile, data: bytes) -> None:
        if len(data) <= self.budget:
            self[f.parts] = data
            self.budget -= len(data)


def _read_facts(
    medium: Medium,
    f: MediaFile,
    *,
    referenced: bool,
    keywords: tuple[str, ...],
    hashing: bool,
    kept: bytes | None,
) -> FileFacts:
    """Header (if DICOM or referenced) and hash (if asked) of one file, in one open."""
    try:
        with _opened(medium, f, kept) as fp:
            head = fp.read(132)
            is_part10 = head[128:132] == b"DICM"
            header, error, damaged = None, None, None
            if is_part10 or referenced:
                try:
                    fp.seek(0)
                    header = read_header_stream(fp, f.size, where=f.raw, keywords=keywords)
                except DamagedFileError as exc:
                    error, damaged = exc.detail, exc.code
                except MediakitError as exc:
                    error = str(exc).removeprefix(f"{f.raw}: ")
            digest = _hash(fp) if hashing else None
    except OSError as exc:
        return FileFacts(f, None, f"cannot be read ({exc})", None)
    except MediaError as exc:  # with a code (a damaged ZIP member: V308): that file's finding
        why = str(exc).removeprefix(f"{f.raw}: ")
        return FileFacts(f, None, f"cannot be read ({why})", None, exc.code)
    return FileFacts(f, header, error, digest, damaged)


def _opened(medium: Medium, f: MediaFile, kept: bytes | None) -> BinaryIO:
    """The file as a stream: from memory when already read or small (one read, then
    header and hash both come from those bytes), else straight from the medium."""
    if kept is not None:
        return io.BytesIO(kept)
    if f.size <= _IN_MEMORY:
        with medium.open(f) as fp:
            return io.BytesIO(fp.read(_IN_MEMORY))
    return medium.open(f)


def _hash(fp: BinaryIO) -> str:
    fp.seek(0)
    sha = hashlib.sha256()
    while chunk := fp.read(_CHUNK):
        sha.update(chunk)
    return sha.hexdigest()


def _read_manifest(
    medium: Medium, f: MediaFile, found: list[Finding], kept: _Kept
) -> Mapping[str, str] | None:
    """The medium's own SHA-256 manifest (None if damaged); what is wrong with it is V306."""
    try:
        data = medium.read_bytes(f, MANIFEST_LIMIT)
        kept.keep(f, data)
        listed, problems = parse_manifest(data)
    except MediaError as exc:
        listed, problems = None, [str(exc).removeprefix(f"{f.raw}: ")]
    found.extend(finding("V306", "/".join(f.parts), f"manifest {p}") for p in problems)
    return listed


def _follow_lower_levels(
    medium: Medium,
    resolver: Resolver,
    directory: ParsedDirectory,
    dicomdir: MediaFile,
    found: list[Finding],
    kept: _Kept,
) -> ParsedDirectory:
    """Graft a vendor's lower-level directory files into the tree (media-facts §8: Philips).

    A record that references a file but no SOP Instance is a candidate; when the
    file is a Media Storage Directory, its root records become the record's
    children (D125). Each file is followed once (no loops), within a byte budget.
    """
    records, reachable = list(directory.records), set(directory.reachable)
    ordered = set(directory.ordered)
    notes = list(directory.findings)
    followed = {dicomdir.parts}
    budget = LOWER_LEVEL_LIMIT
    queue = deque(r for r in records if r.file_id and not r.sop_instance_uid)
    while queue:
        rec = queue.popleft()
        res = resolver.resolve(rec.file_id or ())
        f = res.file
        if f is None or f.parts in followed or f.size > budget:
            continue
        try:
            data = medium.read_bytes(f, min(budget, DICOMDIR_LIMIT))
        except MediaError:
            continue
        if data[128:132] != b"DICM":
            continue
        lower = parse_dicomdir(data, where=f.raw)
        if lower.media_storage_sop_class != MEDIA_STORAGE_DIRECTORY:
            continue
        followed.add(f.parts)
        kept.keep(f, data)
        budget -= len(data)
        for child in lower.records:
            child.directory_file = f.raw
        rec.children.extend(lower.roots)
        records.extend(lower.records)
        reachable.update(lower.reachable)
        ordered.update(lower.ordered)
        notes.extend(lower.findings)
        place = f"{rec.directory_file or 'DICOMDIR'}@{rec.offset or 0:#x}"
        found.append(
            finding(
                "D125",
                place,
                f"{rec.record_type} -> {f.raw}, {len(lower.records)} records followed",
            )
        )
        queue.extend(r for r in lower.records if r.file_id and not r.sop_instance_uid)
    if len(records) == len(directory.records):
        return directory
    return replace(
        directory,
        records=records,
        reachable=frozenset(reachable),
        ordered=frozenset(ordered),
        findings=tuple(notes),
    )


def every_keyword() -> tuple[str, ...]:
    """The attributes every check of every profile, and the RT rules, read from a header."""
    return tuple(
        dict.fromkeys(
            (*(k for p in profile_ids() for k in all_keywords(load_profile(p))), *RT_KEYWORDS)
        )
    )


def keywords_for(profile: Profile) -> tuple[str, ...]:
    """The attributes the checks of one profile, and the RT rules, read from a header."""
    return tuple(dict.fromkeys((*all_keywords(profile), *RT_KEYWORDS)))


def take_snapshot(
    medium: Medium,
    *,
    expected: Mapping[str, str] | None = None,
    keywords: tuple[str, ...] | None = None,
    own_manifest: bool = True,
    progress: Progress | None = None,
) -> Snapshot:
    """Read ``medium`` into a snapshot: DICOMDIR parsed, File IDs resolved, headers read.

    ``keywords`` limits the attributes kept from each header (default: what every
    check reads, :func:`every_keyword`); a caller that runs no checks (import)
    asks only for what it uses. With ``own_manifest`` false, the medium's
    ``SHA256.TXT`` is neither read nor verified (nor are files hashed for it).
    """
    found: list[Finding] = list(medium.findings())
    resolver = Resolver(medium)
    kept = _Kept()
    manifest = resolver.resolve((MANIFEST_NAME,)).file
    listed = None
    if manifest is not None and (own_manifest or expected is not None):
        listed = _read_manifest(medium, manifest, found, kept)
    if expected is None:
        expected = listed
    elif manifest is not None and listed is not None and dict(listed) != dict(expected):
        found.append(finding("V306", MANIFEST_NAME, "manifest does not list what was written"))
    located = {fid: resolver.resolve(fid.split("/")).file for fid in expected or ()}
    dicomdir_res = resolver.resolve(("DICOMDIR",))
    dicomdir = dicomdir_res.file
    directory, dicomdir_sha256 = None, None
    if dicomdir is not None:
        if not dicomdir_res.exact:
            found.append(finding("F203", dicomdir.raw, "DICOMDIR"))
        try:
            data = medium.read_bytes(dicomdir, DICOMDIR_LIMIT)
            directory = parse_dicomdir(data, where=dicomdir.raw)
            if expected is not None:
                dicomdir_sha256 = hashlib.sha256(data).hexdigest()
        except MediaError as exc:
            found.append(finding("D102", dicomdir.raw, str(exc)))
    if directory is not None and dicomdir is not None:
        directory = _follow_lower_levels(medium, resolver, directory, dicomdir, found, kept)
    resolutions: dict[int, Resolution] = {}
    referenced: set[tuple[str, ...]] = set()
    for rec in directory.records if directory else ():
        if rec.file_id is not None:
            res = resolver.resolve(rec.file_id)
            resolutions[id(rec)] = res
            if res.file is not None:
                referenced.add(res.file.parts)
    keywords = every_keyword() if keywords is None else keywords
    others = [f for f in medium.files() if dicomdir is None or f.parts != dicomdir.parts]
    facts: list[FileFacts] = []
    for done, f in enumerate(others, 1):
        facts.append(
            _read_facts(
                medium,
                f,
                referenced=f.parts in referenced,
                keywords=keywords,
                hashing=expected is not None,
                kept=kept.pop(f.parts, None),
            )
        )
        if progress:
            progress(done, len(others))
    return Snapshot(
        label=medium.label,
        kind=medium.kind,
        volume_id=medium.volume_id,
        iso=medium.iso,
        total_bytes=medium.total_bytes,
        files=tuple(facts),
        dicomdir=dicomdir,
        directory=directory,
        resolutions=resolutions,
        facts={f.file.parts: f for f in facts},
        findings=tuple(found),
        expected=expected,
        manifest=manifest,
        dicomdir_sha256=dicomdir_sha256,
        located=located,
        parents={
            id(child): rec
            for _, rec in walk_all(directory.roots if directory else [])
            for child in rec.children
        },
    )
