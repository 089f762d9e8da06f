"""What to import from a medium: a pure function over a :class:`~mediakit.check.snapshot.Snapshot`.

Every file the DICOMDIR references and every other DICOM file on the medium
(found by scanning: the snapshot has every file's header) becomes a
:class:`Candidate`; everything that cannot be imported becomes an
:class:`~mediakit.importer.result.InstanceResult` with its finding, decided
here once for both destinations (store and PACS):

- a Referenced File ID the :class:`~mediakit.media.Resolver` refused (``..``,
  absolute, drive letter, NUL) is S401; links out of the medium and ZIP
  members with such names were never listed and come as S401/S402 from the
  medium's own findings; all are *refused*;
- a record whose file is not there is I502, a file that is not readable
  DICOM (or lacks a SOP Instance, Study or Series UID) is I501: *unreadable*;
- a UID that is not a valid DICOM UID (PS3.5 §9.1) is S403, *refused*: the
  store builds paths from UIDs, so a UID is hostile until it passes;
- a file whose SHA-256 differs from the medium's own manifest (``SHA256.TXT``,
  seal intact) was damaged after it was written: V306, *unreadable*, so a cut
  or bit-flipped copy never enters the store looking like the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from pydicom.dataset import Dataset

from mediakit.check.snapshot import FileFacts, Snapshot
from mediakit.dicomdir.model import MEDIA_STORAGE_DIRECTORY, Record
from mediakit.findings import Finding, finding, plural
from mediakit.importer.result import InstanceResult, Outcome
from mediakit.media import MediaFile
from mediakit.part10 import Header
from mediakit.profiles import keyword_tag

# PS3.5 §9.1: components of digits, no leading zero unless the component is "0",
# separated by '.', at most 64 characters in all.
_UID: Final = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
_UID_MAX: Final = 64
# The identity and place of an instance: validated before anything is built from them.
IDENTITY: Final = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
_REFUSALS: Final = frozenset({"S401", "S402"})


def uid_problem(value: str) -> str | None:
    """Why ``value`` is not a valid UID (PS3.5 §9.1), or None when it is one."""
    if not value:
        return "empty"
    if len(value) > _UID_MAX:
        return f"{len(value)} characters, more than {_UID_MAX}"
    if _UID.match(value):
        return None
    if re.fullmatch(r"[0-9.]+", value):
        return "an empty component or a component with a leading zero"
    return "characters other than digits and '.'"


def text(ds: Dataset, keyword: str) -> str:
    """An attribute's value as stripped text; empty when absent, empty or a sequence."""
    tag = keyword_tag(keyword)
    if tag is None or tag not in ds:  # an unknown keyword is never in a dataset
        return ""
    try:
        elem = ds[tag]
        if elem.VR == "SQ" or elem.value is None:
            return ""
        return str(elem.value).strip()
    except Exception:  # a value pydicom cannot decode counts as absent
        return ""


def identity(header: Header) -> dict[str, str]:
    """SOP Class, SOP Instance, Study and Series Instance UIDs of a header, as text."""
    return {
        "SOPClassUID": header.sop_class_uid,
        "SOPInstanceUID": header.sop_instance_uid,
        "StudyInstanceUID": text(header.keys, "StudyInstanceUID"),
        "SeriesInstanceUID": text(header.keys, "SeriesInstanceUID"),
    }


def identity_problem(header: Header, where: str) -> tuple[Outcome, Finding] | None:
    """Why an instance cannot be imported under its UIDs (I501 missing, S403 invalid), or None."""
    uids = identity(header)
    missing = [kw for kw in IDENTITY if not uids[kw]]
    if missing:
        return Outcome.UNREADABLE, finding("I501", where, f"no {', '.join(missing)}")
    for kw in IDENTITY:
        if (why := uid_problem(uids[kw])) is not None:
            shown = uids[kw][:80].encode("unicode_escape").decode("ascii")
            return Outcome.REFUSED, finding("S403", where, f"{kw} {shown!r}: {why}")
    return None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One file to import: its header as the snapshot read it, and how it was found."""

    file: MediaFile
    header: Header
    found_by: Literal["dicomdir", "scan"]
    dicomdir_file_id: str | None = None  # as the DICOMDIR gives it, components joined by '\\'

    @property
    def file_id(self) -> str:
        """The file's name on the medium, '/'-separated (never used to build a path)."""
        return self.file.raw


@dataclass(frozen=True)
class Plan:
    """Candidates in medium order, and what was decided against without reading further."""

    candidates: tuple[Candidate, ...]
    results: tuple[InstanceResult, ...]  # unreadable, refused, missing
    findings: tuple[Finding, ...]  # about the medium as a whole (I505)


def _where(rec: Record) -> str:
    return f"DICOMDIR@{rec.offset:#x}" if rec.offset is not None else f"DICOMDIR:{rec.record_type}"


def _skip(
    outcome: Outcome, found: Finding, *, file_id: str | None, sop: str = ""
) -> InstanceResult:
    return InstanceResult(
        outcome=outcome,
        file_id=file_id,
        sop_instance_uid=sop,
        sop_class_uid="",
        findings=(found,),
    )


def _from_dicomdir(
    snap: Snapshot,
) -> Iterator[tuple[Record, FileFacts | None, InstanceResult | None]]:
    """Each record that references a file: its facts, or why it cannot be imported."""
    if snap.directory is None:
        return
    for rec in snap.directory.records:
        res = snap.resolutions.get(id(rec))
        if res is None or rec.file_id is None:
            continue
        fid = "\\".join(rec.file_id)
        sop = rec.sop_instance_uid or ""
        if res.unsafe is not None:
            refused = finding("S401", _where(rec), f"{fid!r}: {res.unsafe}: not followed")
            yield rec, None, _skip(Outcome.REFUSED, refused, file_id=None, sop=sop)
        elif res.file is None and res.candidates == 0:
            gone = finding("I502", _where(rec), f"{rec.record_type} {fid}")
            yield rec, None, _skip(Outcome.UNREADABLE, gone, file_id=None, sop=sop)
        elif res.file is not None:
            yield rec, snap.facts.get(res.file.parts), None
        # several candidates (F204): the files themselves are found by scanning


def plan_import(snap: Snapshot, bare: Mapping[tuple[str, ...], FileFacts] | None = None) -> Plan:
    """Decide which files to import and which to report as not importable.

    ``bare`` holds the headers of bare datasets the snapshot did not read
    (:func:`mediakit.importer.scan.bare_datasets`), by file.
    """
    bare = bare or {}
    candidates: list[Candidate] = []
    results: list[InstanceResult] = []
    found: list[Finding] = []
    for f in snap.findings:  # links out of the medium, ZIP members that climb out
        if f.code in _REFUSALS:
            results.append(_skip(Outcome.REFUSED, f, file_id=f.path))
    taken: set[tuple[str, ...]] = set()

    def consider(
        facts: FileFacts, found_by: Literal["dicomdir", "scan"], fid: str | None = None
    ) -> None:
        taken.add(facts.file.parts)
        raw = facts.file.raw
        if (damage := _damaged(snap, facts.file)) is not None:
            sop = facts.header.sop_instance_uid[:64] if facts.header is not None else ""
            results.append(_skip(Outcome.UNREADABLE, damage, file_id=raw, sop=sop))
            return
        if facts.header is None:
            why = facts.error or "not a DICOM file"
            results.append(_skip(Outcome.UNREADABLE, finding("I501", raw, why), file_id=raw))
            return
        if _is_directory(facts.header):
            return  # a nested DICOMDIR (Philips DIRFILE, a whole disc copied): not an instance
        if facts.header.truncated is not None:  # what is missing cannot be imported
            cut = finding("I501", raw, f"truncated: {facts.header.truncated}")
            sop = facts.header.sop_instance_uid[:64]
            results.append(_skip(Outcome.UNREADABLE, cut, file_id=raw, sop=sop))
            return
        problem = identity_problem(facts.header, raw)
        if problem is not None:
            outcome, why_not = problem
            results.append(
                _skip(outcome, why_not, file_id=raw, sop=facts.header.sop_instance_uid[:64])
            )
            return
        candidates.append(Candidate(facts.file, facts.header, found_by, fid))

    for rec, facts, skipped in _from_dicomdir(snap):
        if skipped is not None:
            results.append(skipped)
        elif facts is not None and facts.file.parts not in taken:
            consider(facts, "dicomdir", "\\".join(rec.file_id or ()))
    scanned = 0
    for facts in (bare.get(f.file.parts, f) for f in snap.files):
        if facts.file.parts in taken:
            continue
        if facts.header is None and facts.error is None:
            continue  # not DICOM and not referenced: README, INDEX.HTM, viewers
        if facts.header is not None and not _is_directory(facts.header):
            scanned += 1
        consider(facts, "scan")
    if scanned:
        why = "no usable DICOMDIR" if not _usable(snap) else "not referenced by the DICOMDIR"
        found.append(finding("I505", snap.label, f"{plural(scanned, 'instance')}: {why}"))
    return Plan(tuple(candidates), tuple(results), tuple(found))


def _damaged(snap: Snapshot, file: MediaFile) -> Finding | None:
    """V306 when the medium's manifest lists this file with another SHA-256 (the snapshot's)."""
    if snap.manifest is None or snap.expected is None:
        return None  # no manifest, or one whose seal failed: it proves nothing
    fid = "/".join(file.parts)
    want = snap.expected_sha256(file)
    facts = snap.facts.get(file.parts)
    got = facts.sha256 if facts is not None else None
    if want is None or got is None or got == want:
        return None
    return finding(
        "V306", fid, f"SHA-256 {got} but the medium's manifest says {want}: damaged, not imported"
    )


def _is_directory(header: Header) -> bool:
    """A DICOMDIR: its class is in the File Meta only (it has no SOP Common module)."""
    return MEDIA_STORAGE_DIRECTORY in (
        header.sop_class_uid,
        header.meta.get("MediaStorageSOPClassUID"),
    )


def _usable(snap: Snapshot) -> bool:
    return snap.directory is not None and bool(snap.directory.records)
