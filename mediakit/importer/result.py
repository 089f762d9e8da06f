"""What an import did with each instance, and the totals the summary and ``--json`` show."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mediakit.findings import Finding


class Outcome(StrEnum):
    """The fate of one instance (or of one file that should have been one)."""

    IMPORTED = "imported"  # written to the store, or stored by the PACS
    ALREADY_PRESENT = "already_present"  # the store holds these very bytes already
    CONFLICT = "conflict"  # the store holds other bytes under this SOP Instance UID
    UNREADABLE = "unreadable"  # not on the medium, not readable, not DICOM, no UIDs
    REFUSED = "refused"  # unsafe File ID, link out of the medium, invalid UID
    FAILED = "failed"  # the PACS did not store it after every retry


NOT_TAKEN = frozenset({Outcome.CONFLICT, Outcome.UNREADABLE, Outcome.REFUSED, Outcome.FAILED})


@dataclass(frozen=True, slots=True)
class InstanceResult:
    """One decision: which file, which instance, what happened and why."""

    outcome: Outcome
    file_id: str | None  # on the medium, '/'-separated; None when the file was never found
    sop_instance_uid: str
    sop_class_uid: str
    path: str | None = None  # in the store, relative; the conflict copy for conflicts
    sha256: str | None = None  # of the bytes on the medium
    status: int | None = None  # C-STORE status (PACS only)
    attempts: int = 0  # C-STORE requests sent (PACS only)
    findings: tuple[Finding, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of one entry of ``instances`` (keys documented in the README)."""
        return {
            "outcome": self.outcome.value,
            "file_id": self.file_id,
            "sop_instance_uid": self.sop_instance_uid,
            "sop_class_uid": self.sop_class_uid,
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status,
            "attempts": self.attempts,
            "codes": [f.code for f in self.findings],
        }


@dataclass(frozen=True)
class ImportResult:
    """Everything one import did: per instance, and about the medium and destination."""

    medium: str
    kind: str
    volume_id: str | None
    destination: str  # the store folder, or AET@HOST:PORT
    target: str  # "store" or "pacs"
    instances: tuple[InstanceResult, ...]
    findings: tuple[Finding, ...] = field(default=())  # medium- and destination-level

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        """Destination and medium findings first, then each instance's, in order."""
        return (*self.findings, *(f for r in self.instances for f in r.findings))

    def summary(self) -> dict[str, int]:
        """Instances per outcome, every outcome present as a key."""
        out = {o.value: 0 for o in Outcome}
        for r in self.instances:
            out[r.outcome.value] += 1
        return out

    @property
    def complete(self) -> bool:
        """True when every instance on the medium is now at the destination."""
        return not any(r.outcome in NOT_TAKEN for r in self.instances)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during an import: raised once the instance in hand is finished.

    ``instances`` are the decisions made until then; ``result`` is the whole partial
    :class:`ImportResult` once the import has put it together (None before that).
    """

    def __init__(self, instances: tuple[InstanceResult, ...]) -> None:
        super().__init__("interrupted")
        self.instances = instances
        self.result: ImportResult | None = None
