"""The store's SQLite index (stdlib ``sqlite3``, WAL): one row per stored instance.

A row is committed only after its file has been renamed into place and the
folder fsynced, so a row never exists without its file; a file without a row
(a crash between rename and commit) is found and indexed when the store is
next opened (:mod:`mediakit.importer.store`). Conflicts (other content under
a stored SOP Instance UID) are recorded in their own table, never as instances.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Final

from mediakit.errors import InputError

SCHEMA_VERSION: Final = 2
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS instances (
    sop_instance_uid    TEXT PRIMARY KEY,
    sop_class_uid       TEXT NOT NULL,
    study_instance_uid  TEXT NOT NULL,
    series_instance_uid TEXT NOT NULL,
    patient_id          TEXT NOT NULL,
    patient_name        TEXT NOT NULL,
    study_date          TEXT NOT NULL,
    study_id            TEXT NOT NULL,
    accession_number    TEXT NOT NULL,
    modality            TEXT NOT NULL,
    transfer_syntax     TEXT NOT NULL,
    path                TEXT NOT NULL UNIQUE,
    size                INTEGER NOT NULL,
    sha256              TEXT NOT NULL,
    source_sha256       TEXT NOT NULL,
    rewritten           INTEGER NOT NULL,
    source_medium       TEXT,
    source_volume_id    TEXT,
    source_file_id      TEXT,
    imported_at         TEXT NOT NULL,
    source_path         TEXT
);
CREATE INDEX IF NOT EXISTS instances_study ON instances (study_instance_uid);
CREATE INDEX IF NOT EXISTS instances_patient ON instances (patient_id);
CREATE TABLE IF NOT EXISTS conflicts (
    sop_instance_uid TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    path             TEXT NOT NULL,
    stored_sha256    TEXT NOT NULL,
    source_medium    TEXT,
    source_volume_id TEXT,
    source_file_id   TEXT,
    detected_at      TEXT NOT NULL,
    source_path      TEXT,
    PRIMARY KEY (sop_instance_uid, sha256)
);
"""
# Schema 1 recorded in source_file_id the path read on the medium ('/'-separated), which
# schema 2 keeps in source_path; the DICOMDIR's File ID was not recorded, so it is NULL
# until an import from the same medium meets the file through the DICOMDIR again.
_MIGRATE_1_TO_2: Final = (
    "ALTER TABLE instances ADD COLUMN source_path TEXT",
    "UPDATE instances SET source_path = source_file_id, source_file_id = NULL",
    "ALTER TABLE conflicts ADD COLUMN source_path TEXT",
    "UPDATE conflicts SET source_path = source_file_id, source_file_id = NULL",
    "UPDATE meta SET value = '2' WHERE key = 'schema'",
)


@dataclass(frozen=True, slots=True)
class Row:
    """One stored instance (columns of ``instances``, in order)."""

    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str
    series_instance_uid: str
    patient_id: str
    patient_name: str
    study_date: str
    study_id: str
    accession_number: str
    modality: str
    transfer_syntax: str
    path: str  # relative to the store, '/'-separated
    size: int
    sha256: str  # of the stored file
    source_sha256: str  # of the bytes on the medium (differs when a File Meta was added)
    rewritten: bool
    source_medium: str | None  # absolute path; None: recovered after a crash, source unknown
    source_volume_id: str | None
    source_file_id: str | None  # the DICOMDIR's File ID ('\\'-joined); None: found by scanning
    imported_at: str
    source_path: str | None  # the file read on the medium, '/'-separated


def sqlite_reason(exc: sqlite3.Error) -> str:
    """Why SQLite failed, in words; a full disk (SQLITE_FULL) says so plainly."""
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return f"the disk is full ({exc})"
    return str(exc)


_COLUMNS: Final = tuple(f.name for f in fields(Row))
_REWRITTEN: Final = _COLUMNS.index("rewritten")


def _row(values: tuple[object, ...]) -> Row:
    """A row from SQLite's tuple (``rewritten`` is stored as 0/1)."""
    listed = list(values)
    listed[_REWRITTEN] = bool(listed[_REWRITTEN])
    return Row(*listed)  # type: ignore[arg-type]  # column types are the schema's


class Index:
    """The open index of one store; the caller holds the store's lock."""

    def __init__(self, path: Path) -> None:
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: in WAL mode a commit is not flushed to disk by itself (the WAL is, at
            # each checkpoint). A power loss may so forget the last rows, never invent one:
            # a row is written only after its file is fsynced and renamed into place and its
            # folder fsynced, and a file whose row was forgotten is indexed again on the next
            # open (the store's reconcile). One disk flush per instance saved.
            self._db.execute("PRAGMA synchronous=NORMAL")
            has_meta = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
            ).fetchone()
            got = (
                self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if has_meta
                else None
            )
            if got is not None and got[0] == "1":
                self._migrate()
            elif got is not None and got[0] != str(SCHEMA_VERSION):
                raise InputError(
                    f"{path}: index schema {got[0]}, this mediakit reads 1 and {SCHEMA_VERSION}"
                )
            self._db.executescript(_SCHEMA)
            if got is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_FULL:
                why = sqlite_reason(exc)
                raise InputError(f"{path}: cannot write the store index: {why}") from None
            raise InputError(f"{path}: not a usable store index ({exc})") from None

    def _migrate(self) -> None:
        """Schema 1 to 2 in one transaction: every row kept, its medium path in source_path."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for statement in _MIGRATE_1_TO_2:
                self._db.execute(statement)

    def set_source_file_id(self, sop_instance_uid: str, file_id: str) -> None:
        """Fill in the DICOMDIR File ID of a row migrated from schema 1 (where it was NULL)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "UPDATE instances SET source_file_id=? "
                "WHERE sop_instance_uid=? AND source_file_id IS NULL",
                (file_id, sop_instance_uid),
            )

    def get(self, sop_instance_uid: str) -> Row | None:
        """The row of a stored instance, or None."""
        cur = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM instances WHERE sop_instance_uid=?",
            (sop_instance_uid,),
        )
        got = cur.fetchone()
        return None if got is None else _row(got)

    def paths(self) -> Mapping[str, str]:
        """Every stored file: relative path -> SOP Instance UID."""
        return dict(self._db.execute("SELECT path, sop_instance_uid FROM instances"))

    def rows(self) -> Iterator[Row]:
        """Every row, by SOP Instance UID."""
        cur = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM instances ORDER BY sop_instance_uid"
        )
        for got in cur:
            yield _row(got)

    def add(self, row: Row) -> None:
        """Commit one row (its file is already in place and fsynced)."""
        values = astuple(row)
        marks = ", ".join("?" * len(values))
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                f"INSERT INTO instances ({', '.join(_COLUMNS)}) VALUES ({marks})", values
            )

    def remove(self, sop_instance_uid: str) -> None:
        """Drop the row of an instance whose file is gone."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM instances WHERE sop_instance_uid=?", (sop_instance_uid,))

    def add_conflict(
        self,
        sop_instance_uid: str,
        sha256: str,
        path: str,
        stored_sha256: str,
        source: tuple[str | None, str | None, str | None, str | None],
        when: str,
    ) -> None:
        """Record a conflict copy (once per SOP Instance UID and content).

        ``source`` is (medium, volume id, DICOMDIR File ID, path on the medium).
        """
        medium, volume_id, file_id, source_path = source
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR IGNORE INTO conflicts (sop_instance_uid, sha256, path, stored_sha256, "
                "source_medium, source_volume_id, source_file_id, detected_at, source_path) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sop_instance_uid, sha256, path, stored_sha256, medium, volume_id, file_id, when,
                 source_path),
            )  # fmt: skip

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        self._db.close()
