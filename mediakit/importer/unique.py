"""One candidate per SOP Instance UID before sending: a PACS must not get two contents.

A SOP Instance UID names one instance (PS3.3 C.12.1.1.1). A medium may carry it
twice: the same file copied into two folders, or two different contents (a
vendor re-export, a hand-edited copy). The store meets the second copy at its
index (already present, or a conflict kept aside, I503); a PACS has no such
guard that we control: whichever arrives last may win. So before sending, the
candidates are grouped by UID in medium order. The first of each group is sent;
a later copy holding the same bytes, or the same dataset in another encoding
(:func:`mediakit.part10.same_instance`, as ``build`` decides it), is the same
instance and is not sent again; a later copy with other content is not sent
and is reported (I512).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mediakit.errors import MediaError
from mediakit.findings import finding
from mediakit.importer.files import chunks
from mediakit.importer.plan import Candidate
from mediakit.importer.result import InstanceResult, Outcome
from mediakit.media import Medium
from mediakit.part10 import same_instance


@dataclass(frozen=True)
class Unique:
    """The candidates to send (one per UID, medium order) and what was decided for the rest."""

    candidates: tuple[Candidate, ...]
    results: tuple[InstanceResult, ...]  # same instance again, or other content (I512)


def _sha256(medium: Medium, cand: Candidate) -> str:
    sha = hashlib.sha256()
    with medium.open(cand.file) as src:
        for chunk in chunks(src):
            sha.update(chunk)
    return sha.hexdigest()


def _same_dataset(medium: Medium, a: Candidate, b: Candidate) -> bool:
    """Whether two files hold one dataset in two encodings (read into temporary files)."""
    with tempfile.TemporaryDirectory(prefix="mediakit-unique-") as tmp:
        paths = []
        for n, cand in enumerate((a, b)):
            path = Path(tmp) / f"{n}.dcm"
            with medium.open(cand.file) as src, open(path, "wb") as out:
                shutil.copyfileobj(src, out)
            paths.append(path)
        return same_instance(paths[0], paths[1])


def unique(medium: Medium, candidates: Sequence[Candidate]) -> Unique:
    """Keep the first candidate of each SOP Instance UID; decide the others.

    Only files whose UID occurs more than once are read here (hashed, then compared as
    datasets when the bytes differ); a later copy that cannot be read is I501.
    """
    groups: dict[str, list[Candidate]] = {}
    for cand in candidates:
        groups.setdefault(cand.header.sop_instance_uid, []).append(cand)
    kept: list[Candidate] = []
    results: list[InstanceResult] = []
    hashes: dict[int, str] = {}
    for cand in candidates:
        group = groups[cand.header.sop_instance_uid]
        first = group[0]
        if cand is first:
            kept.append(cand)
            continue
        base = (cand.file_id, cand.header.sop_instance_uid, cand.header.sop_class_uid)
        try:
            if id(first) not in hashes:
                hashes[id(first)] = _sha256(medium, first)
            sha = _sha256(medium, cand)
            same = sha == hashes[id(first)] or _same_dataset(medium, first, cand)
        except MediaError as exc:  # cannot be compared with the copy sent: not sent
            why = f"{exc}; another file under this SOP Instance UID ({first.file_id}) is sent"
            unreadable = finding("I501", cand.file_id, why)
            results.append(InstanceResult(Outcome.UNREADABLE, *base, findings=(unreadable,)))
            continue
        if same:
            results.append(InstanceResult(Outcome.ALREADY_PRESENT, *base, sha256=sha))
            continue
        detail = (
            f"{cand.header.sop_instance_uid}: {first.file_id} (sha256 "
            f"{hashes[id(first)][:12]}…) is sent; this file (sha256 {sha[:12]}…) is not"
        )
        results.append(
            InstanceResult(
                Outcome.CONFLICT,
                *base,
                sha256=sha,
                findings=(finding("I512", cand.file_id, detail),),
            )
        )
    return Unique(tuple(kept), tuple(results))
