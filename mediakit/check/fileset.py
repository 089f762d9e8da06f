"""F and S rules: File IDs, their resolution on the medium, the File-set ID (PS3.10 §8).

Writers emit exact uppercase File IDs; readers resolve tolerantly and say so
(media-facts §2). A File ID that escapes the medium is refused (S401).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from mediakit.check.dicomdir import where
from mediakit.check.snapshot import Snapshot
from mediakit.findings import Finding, finding, plural
from mediakit.profiles import Profile

_COMPONENT: Final = re.compile(r"^[A-Z0-9_]{1,8}$")  # PS3.10 §8.2, §8.5
_FILESET_ID: Final = re.compile(r"^[A-Z0-9_ ]{0,16}$")  # PS3.3 F.3.2.1 (CS, 16 at most)


def f201_file_id_characters(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Each File ID component is 1-8 characters of A-Z 0-9 _ (PS3.10 §8.2, §8.5)."""
    if snap.directory is None:
        return
    for rec in snap.directory.records:
        bad = [c for c in rec.file_id or () if not _COMPONENT.match(c)]
        if bad:
            yield finding("F201", where(rec), ", ".join(repr(c) for c in bad[:3]))


def f202_file_id_depth(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """A File ID has at most 8 components (PS3.10 §8.5; PS3.12 F.3)."""
    if snap.directory is None:
        return
    for rec in snap.directory.records:
        if rec.file_id is not None and len(rec.file_id) > 8:
            yield finding("F202", where(rec), f"{len(rec.file_id)} components")


def f203_f204_s401_resolution(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """How each Referenced File ID was found: exactly, tolerantly, ambiguously or unsafely."""
    if snap.directory is None:
        return
    for rec in snap.directory.records:
        res = snap.resolutions.get(id(rec))
        if res is None:
            continue
        fid = "\\".join(rec.file_id or ())
        if res.unsafe is not None:
            yield finding("S401", where(rec), f"{fid!r}: {res.unsafe}")
        elif res.candidates > 1:
            yield finding("F204", where(rec), f"{fid} matches {plural(res.candidates, 'file')}")
        elif res.file is not None and not res.exact:
            yield finding("F203", where(rec), f"{fid} found as {res.file.raw}")


def f205_fileset_id(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """The File-set ID is 0-16 characters of A-Z 0-9 _ space (PS3.3 F.3.2.1)."""
    if snap.directory is not None and not _FILESET_ID.match(snap.directory.fileset_id):
        yield finding(
            "F205",
            snap.dicomdir.raw if snap.dicomdir else "DICOMDIR",
            repr(snap.directory.fileset_id),
        )
