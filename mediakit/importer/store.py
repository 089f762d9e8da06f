"""The local store: files laid out by UIDs, an SQLite index, a JSON-lines log; crash-safe.

Layout of ``STORE/`` (every name below is made by mediakit from validated UIDs;
none comes from a name on the medium)::

    index.sqlite                      the index (WAL); one row per instance
    import-log.jsonl                  one JSON object per decision, appended
    <StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm
    conflicts/<SOPInstanceUID>/<sha256>.dcm   other content under a stored UID, as found
    conflicts/damaged/<SOPInstanceUID>/<sha256>.dcm   a stored file that no longer matched
    .tmp/                             temporary files of a running import
    .lock                             held (flock) by the running import

Each file is written to ``.tmp/``, fsynced, renamed into place, its folder
fsynced, and only then is its index row committed. A crash (even SIGKILL)
therefore leaves at most a temporary file (removed by the next import) or a
complete file without a row (indexed by the next import: adopted with its
source when the medium is the same, else recovered from its own header), never
a row without its file and never a partial file under an instance's name.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Final

from mediakit._types import Progress
from mediakit.errors import InputError, MediakitError, os_reason
from mediakit.findings import Finding, finding
from mediakit.importer.files import KILL_HOOK_ENV, KillHook, chunks, fsync_file
from mediakit.importer.index import Index, Row, sqlite_reason
from mediakit.importer.log import ImportLog, now
from mediakit.importer.plan import Candidate, identity, identity_problem, uid_problem
from mediakit.importer.result import InstanceResult, Outcome
from mediakit.importer.rows import (
    Source,
    Stored,
    build_row,
    place,
    rel_parts,
    repair_reason,
    with_outcome,
)
from mediakit.importer.scan import KEYWORDS
from mediakit.media import Medium, fsync_path
from mediakit.part10 import Header, read_header, rewrite, same_instance, sha256_of

INDEX_NAME: Final = "index.sqlite"
LOG_NAME: Final = "import-log.jsonl"
CONFLICTS: Final = "conflicts"
DAMAGED: Final = "damaged"  # conflicts/damaged/: stored files that no longer matched
TMP: Final = ".tmp"
_LOCK: Final = ".lock"
_INSTANCE_FILE: Final = re.compile(r"^([0-9.]{1,64})\.dcm$")


class StoreWriteError(InputError):
    """The store cannot be written (disk full, permissions, a planted link): the import stops."""


def store_error(root: Path, exc: OSError | sqlite3.Error) -> StoreWriteError:
    """The one error an import ends with when the store's disk fails it (full, read-only)."""
    why = os_reason(exc) if isinstance(exc, OSError) else sqlite_reason(exc)
    return StoreWriteError(
        f"{root}: cannot write the store: {why}; the store is consistent, "
        "import again once this is fixed"
    )


class Store:
    """An open store, locked for one import; use :func:`open_store`."""

    def __init__(self, root: Path, index: Index, log: ImportLog) -> None:
        self.root = root
        self.index = index
        self.log = log
        self.findings: list[Finding] = []
        self._orphans: set[str] = set()
        self._noted: list[Finding] = []  # about the instance being ingested, beyond its result
        self._written: list[tuple[str, str]] = []  # (path, SHA-256) of each row this run added
        self._hook = KillHook()
        self._tmp = root / TMP
        self._real_root = root.resolve()  # resolved once: every file's folder is checked against it
        self._run = uuid.uuid4().hex[:12]
        self._n = 0
        # One background fsync: a copied temporary is flushed while its header is read.
        self._syncer = ThreadPoolExecutor(1, thread_name_prefix="mediakit-fsync")
        self._syncing: dict[Path, Future[None]] = {}
        log.start(self._run)

    # --- opening: clean temporaries, compare index and files --------------------------------

    def reconcile(self) -> None:
        """Remove stale temporaries; drop rows whose file is gone; note files without a row."""
        for stale in sorted(self._tmp.iterdir()):
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
                self.log.write("removed-temporary", name=stale.name)
        indexed = self.index.paths()
        on_disk = set(self._instance_files())
        for rel in sorted(set(indexed) - on_disk):
            self.index.remove(indexed[rel])
            self.log.write("removed-row", path=rel, sop_instance_uid=indexed[rel])
            self.findings.append(
                finding("I510", rel, "index row without its file: removed (import again)")
            )
        self._orphans = on_disk - set(indexed)

    def _instance_files(self) -> Iterator[str]:
        """Relative paths of the files at UID places (three levels of UID names)."""
        for study in os.scandir(self.root):
            if uid_problem(study.name) is not None or not study.is_dir(follow_symlinks=False):
                continue
            for series in os.scandir(study.path):
                if uid_problem(series.name) or not series.is_dir(follow_symlinks=False):
                    continue
                for f in os.scandir(series.path):
                    if _INSTANCE_FILE.match(f.name) and f.is_file(follow_symlinks=False):
                        yield f"{study.name}/{series.name}/{f.name}"

    def verify(self, progress: Progress | None = None) -> None:
        """Read back every file this import wrote; each must have its index row's SHA-256.

        The store is its own first reader, as ``build`` is of a medium: a disk that
        returns other bytes than were fsynced stops the import here (and the next
        import replaces the file from the medium, I511).
        """
        for n, (rel, want) in enumerate(self._written, 1):
            got = sha256_of(self.root.joinpath(*rel_parts(rel)))
            if got != want:
                raise StoreWriteError(
                    f"{self.root}: {rel} does not read back as written (sha256 {got[:12]}…, "
                    f"written {want[:12]}…): check the store's disk, then import again"
                )
            if progress:
                progress(n, len(self._written))
        self._written.clear()

    def finish(self) -> None:
        """Index the files without a row that this import did not meet (crash leftovers)."""
        for rel in sorted(self._orphans):
            self._recover(rel)
        self._orphans.clear()

    def _recover(self, rel: str) -> Row | None:
        """Index a complete file found without its row, from its own header."""
        path = self.root.joinpath(*rel_parts(rel))
        try:
            header: Header | None = read_header(path, keywords=KEYWORDS)
        except MediakitError:
            header = None
        if header is None or identity_problem(header, rel) is not None or place(header) != rel:
            aside = self.root / CONFLICTS / "unindexed" / rel.replace("/", "_")
            aside.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, aside)
            self.log.write("set-aside", path=rel, to=aside.relative_to(self.root).as_posix())
            self.findings.append(
                finding("I510", rel, "unindexed file not at its UID place: set aside")
            )
            return None
        sha = sha256_of(path)
        row = build_row(header, Stored(rel, header.size, sha, sha, False), None, None)
        self.index.add(row)
        self.log.write("recovered", path=rel, sop_instance_uid=row.sop_instance_uid, sha256=sha)
        self.findings.append(finding("I510", rel, "file without its index row: indexed"))
        return row

    # --- one instance ------------------------------------------------------------------------

    def _temp(self) -> Path:
        self._n += 1
        return self._tmp / f"{self._run}-{self._n:06d}.tmp"

    def _copy(self, medium: Medium, cand: Candidate, dst: Path) -> str:
        """Copy a file off the medium into ``dst``, hashing on the way.

        A read error is the medium's (MediaError: this instance is unreadable); a
        write error is the store's (OSError, which stops the import).
        """
        sha = hashlib.sha256()
        with medium.open(cand.file) as src, open(dst, "xb") as out:
            for chunk in chunks(src):
                sha.update(chunk)
                out.write(chunk)
        return sha.hexdigest()

    def _present(self, medium: Medium, cand: Candidate) -> tuple[Row, str] | None:
        """The row holding exactly these bytes, when the index has the UID: one read, no write.

        A rerun over a whole DVD then reads it once and writes nothing.
        """
        row = self.index.get(cand.header.sop_instance_uid)
        if row is None:
            return None
        sha = hashlib.sha256()
        with medium.open(cand.file) as src:
            for chunk in chunks(src):
                sha.update(chunk)
        digest = sha.hexdigest()
        if digest not in (row.sha256, row.source_sha256):
            return None
        return (row, digest) if self._intact(row) else None

    def _intact(self, row: Row) -> bool:
        """Whether the stored file still has its index SHA-256; if not, it is set aside.

        Bit rot, or a hand edit in the store: the damaged file goes to
        ``conflicts/damaged/`` first, then its row is dropped (a crash between the two
        leaves a row without its file, which the next import drops, I510), and the
        caller copies the instance from the medium again (I511).
        """
        path = self.root.joinpath(*rel_parts(row.path))
        got = sha256_of(path)
        if got == row.sha256:
            return True
        aside = f"{CONFLICTS}/{DAMAGED}/{row.sop_instance_uid}/{got}.dcm"
        final = self.root.joinpath(*rel_parts(aside))
        self._makedirs(final.parent)
        os.replace(path, final)
        fsync_path(final.parent)
        fsync_path(path.parent)
        self.index.remove(row.sop_instance_uid)
        self.log.write("damaged", path=row.path, to=aside, sha256=got, expected=row.sha256)
        detail = f"sha256 {got[:12]}… but the index says {row.sha256[:12]}…; kept at {aside}"
        self._noted.append(finding("I511", row.path, detail))
        return False

    def ingest(self, medium: Medium, cand: Candidate, source: Source) -> InstanceResult:
        """Bring one candidate into the store; every outcome is logged and returned."""
        raw = self._temp()
        temps = [raw]
        try:
            result = self._ingest(medium, cand, source, raw, temps)
            if self._noted:  # the stored copy this one replaced (I511)
                result = replace(result, findings=(*self._noted, *result.findings))
        except (OSError, sqlite3.Error) as exc:  # the store's side: disk full, permissions
            raise store_error(self.root, exc) from None
        finally:
            self._noted.clear()
            for t in temps:
                if (pending := self._syncing.pop(t, None)) is not None:
                    wait([pending])  # never unlink a file while it is being flushed
                t.unlink(missing_ok=True)
        self.log.write(
            result.outcome.value,
            file_id=result.file_id,
            sop_instance_uid=result.sop_instance_uid,
            path=result.path,
            sha256=result.sha256,
            codes=[f.code for f in result.findings],
            detail=[f.message for f in result.findings],
        )
        return result

    def _ingest(
        self, medium: Medium, cand: Candidate, source: Source, raw: Path, temps: list[Path]
    ) -> InstanceResult:
        where = cand.file_id
        base = InstanceResult(
            Outcome.UNREADABLE, where, cand.header.sop_instance_uid, cand.header.sop_class_uid
        )
        try:
            if (present := self._present(medium, cand)) is not None:
                known, digest = present
                fid = cand.dicomdir_file_id
                if fid and known.source_file_id is None and known.source_path == cand.file.raw:
                    self.index.set_source_file_id(known.sop_instance_uid, fid)  # from schema 1
                return InstanceResult(
                    Outcome.ALREADY_PRESENT,
                    where,
                    known.sop_instance_uid,
                    known.sop_class_uid,
                    path=known.path,
                    sha256=digest,
                )
            sha = self._copy(medium, cand, raw)
            self._syncing[raw] = self._syncer.submit(fsync_file, raw)  # see _durable
            header = read_header(raw, keywords=KEYWORDS)  # the bytes we hold, not the snapshot
        except StoreWriteError:
            raise
        except MediakitError as exc:
            why = str(exc).removeprefix(f"{raw}: ")
            return with_outcome(base, finding("I501", where, why))
        problem = identity_problem(header, where)
        if problem is not None:
            return with_outcome(base, problem[1], outcome=problem[0])
        uids = identity(header)
        sop = uids["SOPInstanceUID"]
        base = InstanceResult(Outcome.IMPORTED, where, sop, uids["SOPClassUID"], sha256=sha)
        row = self.index.get(sop)
        if row is not None:
            if sha in (row.sha256, row.source_sha256):
                return with_outcome(base, None, outcome=Outcome.ALREADY_PRESENT, path=row.path)
            if same_instance(raw, self.root.joinpath(*rel_parts(row.path))):
                self.log.write("same-dataset", path=row.path, sop_instance_uid=sop, sha256=sha)
                return with_outcome(base, None, outcome=Outcome.ALREADY_PRESENT, path=row.path)
            return self._conflict(base, raw, row, source, cand)
        rel = place(header)
        stored: Path | None = raw
        stored_sha, repaired = sha, None
        if not header.conforms({header.transfer_syntax}):
            stored = self._temp()
            temps.append(stored)
            try:
                _, stored_sha = rewrite(raw, stored, header, header.transfer_syntax)
            except InputError as exc:
                return with_outcome(base, finding("I501", where, str(exc).removeprefix(f"{raw}: ")),
                             outcome=Outcome.UNREADABLE)  # fmt: skip
            repaired = finding("I504", where, repair_reason(header))
        if rel in self._orphans:  # a complete file from an interrupted import
            self._orphans.discard(rel)
            orphan_sha = sha256_of(self.root.joinpath(*rel_parts(rel)))
            if orphan_sha not in (sha, stored_sha):
                recovered = self._recover(rel)
                if recovered is not None:
                    return self._conflict(base, raw, recovered, source, cand)
            else:
                self.log.write("adopted", path=rel, sop_instance_uid=sop)
                stored, stored_sha = None, orphan_sha  # the file in place is this very content
        size = self._place(stored, rel) if stored is not None else self._size(rel)
        try:
            kept = Stored(rel, size, stored_sha, sha, repaired is not None)
            self.index.add(build_row(header, kept, source, cand))
            self._written.append((rel, stored_sha))
        except sqlite3.Error:  # the disk filled at the commit: leave no file without its row
            if stored is not None:
                self.root.joinpath(*rel_parts(rel)).unlink(missing_ok=True)
                fsync_path(self.root.joinpath(*rel_parts(rel)).parent)
            raise
        self._hook.reached("committed")
        return with_outcome(base, repaired, path=rel)

    def _durable(self, path: Path) -> None:
        """fsync ``path``, or wait for the fsync started on it as soon as it was copied.

        Either way the call returns only once the file's bytes are on disk, before
        anything renames it: the order of durable steps is the same, the flush has
        only started earlier, while the header of the copy was being read.
        """
        pending = self._syncing.pop(path, None)
        if pending is None:
            fsync_file(path)
        else:
            pending.result()  # the OSError of a failed fsync is raised here

    def close(self) -> None:
        """Wait for any background flush (there is none after the last instance)."""
        self._syncer.shutdown(wait=True)

    def _size(self, rel: str) -> int:
        return self.root.joinpath(*rel_parts(rel)).stat().st_size

    def _place(self, tmp: Path, rel: str) -> int:
        """fsync the temporary, rename it into place, fsync the folders; return its size."""
        self._durable(tmp)
        self._hook.reached("copied")
        final = self.root.joinpath(*rel_parts(rel))
        self._makedirs(final.parent)
        if final.exists() or final.is_symlink():
            raise StoreWriteError(f"{rel}: appeared in the store during the import; not replaced")
        os.rename(tmp, final)
        fsync_path(final.parent)
        self._hook.reached("renamed")
        return final.stat().st_size

    def _makedirs(self, folder: Path) -> None:
        """Create the missing folders below the store, fsyncing each parent; refuse links."""
        missing = []
        here = folder
        while not here.exists() and not here.is_symlink():
            missing.append(here)
            here = here.parent
        # UID names have no '..': only a link planted in the store could lead out of it.
        if not here.resolve().is_relative_to(self._real_root):
            raise StoreWriteError(f"{here}: leads outside the store (a link?); nothing written")
        for d in reversed(missing):
            d.mkdir()
            fsync_path(d.parent)

    def _conflict(
        self, base: InstanceResult, raw: Path, row: Row, source: Source, cand: Candidate
    ) -> InstanceResult:
        """Keep the medium's bytes aside under conflicts/, never touching the stored file."""
        assert base.sha256 is not None
        rel = f"{CONFLICTS}/{base.sop_instance_uid}/{base.sha256}.dcm"
        final = self.root.joinpath(*rel_parts(rel))
        if not final.exists():
            self._durable(raw)
            self._makedirs(final.parent)
            os.rename(raw, final)
            fsync_path(final.parent)
        self.index.add_conflict(
            base.sop_instance_uid,
            base.sha256,
            rel,
            row.sha256,
            (source.medium, source.volume_id, cand.dicomdir_file_id, cand.file.raw),
            now(),
        )
        origin = f"{row.source_volume_id or row.source_medium or 'unknown medium'}"
        detail = (
            f"{base.sop_instance_uid}: stored {row.path} (sha256 {row.sha256[:12]}…, from "
            f"{origin}) kept; this copy (sha256 {base.sha256[:12]}…) at {rel}"
        )
        conflict = finding("I503", base.file_id or "", detail)
        return with_outcome(base, conflict, outcome=Outcome.CONFLICT, path=rel)


def _prepare(root: Path) -> None:
    """Make sure ``root`` is a store or can become one: never scatter files into a random folder."""
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: exists and is not a folder; give a store folder to --to")
    if root.is_dir() and not (root / INDEX_NAME).exists() and any(root.iterdir()):
        raise InputError(
            f"{root}: not empty and not a mediakit store (no {INDEX_NAME}); "
            "give a new or empty folder"
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / TMP).mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError(f"{root}: cannot create the store: {os_reason(exc)}") from None


@contextmanager
def open_store(root: Path) -> Iterator[Store]:
    """Open (or create) the store at ``root``, locked against a second import, reconciled.

    Call :meth:`Store.finish` after the last instance to index any leftover files.

    Raises
    ------
    InputError
        When ``root`` is not a store and not empty, cannot be written, or is in use;
        :class:`StoreWriteError` when the store's disk fails the import (full, read-only),
        inside the ``with`` block too.
    """
    _prepare(root)
    try:
        lock = os.open(root / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise store_error(root, exc) from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{root}: another import is using this store; wait for it") from None
        index = Index(root / INDEX_NAME)
        log = ImportLog(root / LOG_NAME)
        store = Store(root, index, log)
        try:
            store.reconcile()
            yield store
        except (OSError, sqlite3.Error) as exc:  # a log line, a recovery: the disk filled
            raise store_error(root, exc) from None
        finally:
            store.close()
            log.close()
            index.close()
    finally:
        os.close(lock)


__all__ = ["KILL_HOOK_ENV", "Source", "Store", "open_store"]
