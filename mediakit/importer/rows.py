"""What the store records about an instance: its place, its index row, its result.

Pure functions over a header and where it came from; the store
(:mod:`mediakit.importer.store`) does the file work and commits what these build.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediakit.findings import Finding
from mediakit.importer.index import Row
from mediakit.importer.log import now
from mediakit.importer.plan import Candidate, identity, text
from mediakit.importer.result import InstanceResult, Outcome
from mediakit.part10 import Header


@dataclass(frozen=True, slots=True)
class Source:
    """Where the instances come from, as recorded in each row and log entry."""

    medium: str  # the medium as an absolute path
    volume_id: str | None


def rel_parts(path: str) -> tuple[str, ...]:
    """A store-relative '/'-separated path as components."""
    return tuple(path.split("/"))


def place(header: Header) -> str:
    """An instance's path in the store, from its validated UIDs only."""
    return "{StudyInstanceUID}/{SeriesInstanceUID}/{SOPInstanceUID}.dcm".format_map(
        identity(header)
    )


def repair_reason(header: Header) -> str:
    """Why a file is not stored byte for byte (I504 detail)."""
    if not header.has_meta:
        return "no File Meta Information"
    why = [*header.meta_problems, *header.meta_mismatch]
    if header.preamble == "other":
        why.append("preamble neither zero nor TIFF (cleared)")
    if header.group2_in_dataset:
        why.append("group 0002 inside the dataset (moved to the File Meta)")
    return "; ".join(why)


@dataclass(frozen=True, slots=True)
class Stored:
    """The file as it lies in the store: where, how big, its SHA-256 and the medium's."""

    rel: str
    size: int
    sha256: str
    source_sha256: str
    rewritten: bool


def build_row(header: Header, stored: Stored, source: Source | None, cand: Candidate | None) -> Row:
    """The index row of a stored instance (``source`` None: recovered, origin unknown)."""
    k, uids = header.keys, identity(header)
    return Row(
        sop_instance_uid=uids["SOPInstanceUID"],
        sop_class_uid=uids["SOPClassUID"],
        study_instance_uid=uids["StudyInstanceUID"],
        series_instance_uid=uids["SeriesInstanceUID"],
        patient_id=text(k, "PatientID"),
        patient_name=text(k, "PatientName"),
        study_date=text(k, "StudyDate"),
        study_id=text(k, "StudyID"),
        accession_number=text(k, "AccessionNumber"),
        modality=text(k, "Modality"),
        transfer_syntax=header.transfer_syntax,
        path=stored.rel,
        size=stored.size,
        sha256=stored.sha256,
        source_sha256=stored.source_sha256,
        rewritten=stored.rewritten,
        source_medium=source.medium if source else None,
        source_volume_id=source.volume_id if source else None,
        source_file_id=cand.dicomdir_file_id if cand else None,
        imported_at=now(),
        source_path=cand.file.raw if cand else None,
    )


def with_outcome(
    base: InstanceResult,
    found: Finding | None,
    *,
    outcome: Outcome | None = None,
    path: str | None = None,
) -> InstanceResult:
    """``base`` with an outcome, a store path and (optionally) one finding."""
    return InstanceResult(
        outcome=outcome or base.outcome,
        file_id=base.file_id,
        sop_instance_uid=base.sop_instance_uid,
        sop_class_uid=base.sop_class_uid,
        path=path,
        sha256=base.sha256,
        findings=(found,) if found is not None else (),
    )
