"""Import a medium into a local store (``--to``) or a PACS (``--pacs``) without loss.

The medium is read once through :func:`~mediakit.check.snapshot.take_snapshot`
(DICOMDIR parsed, File IDs resolved safely, every header read), the plan
(:mod:`~mediakit.importer.plan`) decides what can be imported, and then the
store (:mod:`~mediakit.importer.store`) or the sender
(:mod:`~mediakit.importer.pacs`) takes each instance. Every instance ends with
one :class:`~mediakit.importer.result.Outcome`; anything not taken has an
error finding, so the command exits 1 exactly when something was not taken.
"""

from __future__ import annotations

import os
from pathlib import Path

from mediakit._types import Progress, Stages
from mediakit.check.snapshot import Snapshot, take_snapshot
from mediakit.errors import InputError
from mediakit.importer.files import Deferred
from mediakit.importer.pacs import PacsAddress, Settings, check_aet, resolve, send
from mediakit.importer.plan import Plan, plan_import
from mediakit.importer.result import ImportResult, InstanceResult, Interrupted, Outcome
from mediakit.importer.rows import Source
from mediakit.importer.scan import KEYWORDS, bare_datasets
from mediakit.importer.store import Store, open_store
from mediakit.media import FolderMedium, Medium, open_medium

__all__ = [
    "ImportResult",
    "InstanceResult",
    "Interrupted",
    "Outcome",
    "import_to_pacs",
    "import_to_store",
]


def _stage(stages: Stages | None, name: str) -> Progress | None:
    """Start the stage ``name``: the progress callback the caller gave for it, if any."""
    return stages(name) if stages is not None else None


def _plan(medium: Medium, progress: Progress | None) -> tuple[Snapshot, Plan]:
    # Import runs no checks: only the attributes it records are read. The medium's own
    # manifest is verified (every file hashed in the snapshot's pass), so a file damaged in
    # transit is refused before anything is copied (V306).
    snap = take_snapshot(medium, keywords=KEYWORDS, progress=progress)
    plan = plan_import(snap, bare_datasets(medium, snap))
    if not plan.candidates and not plan.results:
        raise InputError(f"{medium.label}: no DICOM instances found on the medium")
    return snap, plan


def _volume_id(snap: Snapshot) -> str | None:
    """The ISO volume identifier, else the DICOMDIR's File-set ID, else None."""
    for vid in (snap.volume_id, snap.directory.fileset_id if snap.directory else None):
        if vid and vid.strip():
            return vid.strip()
    return None


def import_to_store(media: Path, store: Path, *, stages: Stages | None = None) -> ImportResult:
    """Copy every readable instance of ``media`` into the store folder ``store``.

    Re-running is a no-op for what is there and completes what is missing. ``stages``
    hears of three stages: "reading" (the medium, and planning), "copying" and
    "verifying" (each file written by this run read back against its index row).

    Raises
    ------
    InputError
        The medium cannot be opened or holds no DICOM at all; the store folder is unusable,
        in use by another import, or inside the medium.
    Interrupted
        Ctrl-C: raised after the instance in hand was finished, the store consistent and
        the log's run-end saying "interrupted"; its ``result`` is what was done.
    """
    with open_medium(media) as medium:
        if isinstance(medium, FolderMedium) and store.resolve().is_relative_to(medium.root):
            raise InputError(f"{store}: the store may not be inside the medium {media}")
        snap, plan = _plan(medium, _stage(stages, "reading"))
        source = Source(os.path.abspath(media), _volume_id(snap))
        results: list[InstanceResult] = []
        with open_store(store) as st:
            st.log.write(
                "run-start", medium=medium.label, kind=medium.kind, volume_id=source.volume_id
            )
            st.log.write_all(
                (
                    r.outcome.value,
                    {
                        "file_id": r.file_id,
                        "sop_instance_uid": r.sop_instance_uid or None,
                        "codes": [f.code for f in r.findings],
                        "detail": [f.message for f in r.findings],
                    },
                )
                for r in plan.results
            )
            results.extend(plan.results)
            try:
                progress = _stage(stages, "copying")
                for n, cand in enumerate(plan.candidates, 1):
                    with Deferred():  # Ctrl-C waits for this instance to be whole
                        results.append(st.ingest(medium, cand, source))
                    if progress:
                        progress(n, len(plan.candidates))
                st.verify(_stage(stages, "verifying"))
                st.finish()
            except KeyboardInterrupt:
                stopped = Interrupted(tuple(results))
                stopped.result = _ended(st, "interrupted", medium, source, store, results, plan)
                raise stopped from None
            return _ended(st, "done", medium, source, store, results, plan)


def _ended(
    st: Store,
    status: str,
    medium: Medium,
    source: Source,
    store: Path,
    results: list[InstanceResult],
    plan: Plan,
) -> ImportResult:
    """The run's result, and its run-end line in the log."""
    result = ImportResult(
        medium.label,
        medium.kind,
        source.volume_id,
        str(store),
        "store",
        tuple(results),
        (*plan.findings, *st.findings),
    )
    st.log.write("run-end", status=status, **result.summary())
    return result


def import_to_pacs(
    media: Path,
    address: PacsAddress,
    *,
    calling_aet: str = "MEDIAKIT",
    settings: Settings | None = None,
    stages: Stages | None = None,
) -> ImportResult:
    """C-STORE every readable instance of ``media`` to the PACS at ``address``.

    ``stages`` hears of "reading" (the medium, planning) and "sending".

    Raises
    ------
    InputError
        The medium cannot be opened or holds no DICOM at all; a bad calling AE title; a
        host name that does not resolve (checked before the medium is read).
    """
    check_aet(calling_aet, "--calling-aet")  # before the medium is read, not after
    resolve(address)
    with open_medium(media) as medium:
        snap, plan = _plan(medium, _stage(stages, "reading"))
        try:
            sent = send(
                medium,
                plan.candidates,
                address,
                calling_aet=calling_aet,
                settings=settings,
                progress=_stage(stages, "sending"),
            )
        except Interrupted as stopped:
            stopped.result = ImportResult(
                medium.label,
                medium.kind,
                _volume_id(snap),
                str(address),
                "pacs",
                (*plan.results, *stopped.instances),
                plan.findings,
            )
            raise
        return ImportResult(
            medium.label,
            medium.kind,
            _volume_id(snap),
            str(address),
            "pacs",
            (*plan.results, *sent),
            plan.findings,
        )
