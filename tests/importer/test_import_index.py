"""The store's index: schema 2 columns, migration from schema 1, and files that rotted."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pydicom
import pytest

from mediakit.importer import Outcome, import_to_store
from mediakit.media import open_medium
from tests.importer.storecheck import assert_store_consistent, index_rows, sha256, store_files

# The index of schema 1, verbatim as mediakit wrote it before schema 2 (index.py, commit
# 138e1c4): frozen here so that a schema-1 store can be made without that code.
SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE instances (
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
    imported_at         TEXT NOT NULL
);
CREATE INDEX instances_study ON instances (study_instance_uid);
CREATE INDEX instances_patient ON instances (patient_id);
CREATE TABLE conflicts (
    sop_instance_uid TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    path             TEXT NOT NULL,
    stored_sha256    TEXT NOT NULL,
    source_medium    TEXT,
    source_volume_id TEXT,
    source_file_id   TEXT,
    detected_at      TEXT NOT NULL,
    PRIMARY KEY (sop_instance_uid, sha256)
);
INSERT INTO meta VALUES ('schema', '1');
"""
_V1_COLUMNS = [
    line.split()[0]
    for line in SCHEMA_1.split("CREATE TABLE instances (")[1].split(");")[0].splitlines()
    if line.strip()
]


def _to_schema_1(store: Path) -> list[dict[str, object]]:
    """Rewrite a store's index as schema 1 wrote it: the path read was its source_file_id."""
    rows = index_rows(store)
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (store / name).unlink(missing_ok=True)
    db = sqlite3.connect(store / "index.sqlite")
    db.executescript(SCHEMA_1)
    old = []
    for r in rows:
        v1 = {c: r[c] for c in _V1_COLUMNS}
        v1["source_file_id"] = r["source_path"]
        old.append(v1)
        marks = ", ".join("?" * len(_V1_COLUMNS))
        db.execute(f"INSERT INTO instances VALUES ({marks})", [v1[c] for c in _V1_COLUMNS])
    db.commit()
    db.close()
    return old


def test_schema_2_records_file_id_path_and_absolute_medium(
    course_iso: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(course_iso.parent)  # the medium given relative: recorded absolute
    store = tmp_path / "s"
    result = import_to_store(Path(course_iso.name), store)
    assert result.complete
    rows = assert_store_consistent(store)
    with open_medium(course_iso) as medium:
        read = {f.raw: f.parts for f in medium.files()}
    for r in rows:
        assert r["source_medium"] == str(course_iso)
        assert r["source_path"] in read
        # the DICOMDIR's File ID: components joined by a backslash, as in the DICOMDIR
        fid = str(r["source_file_id"])
        assert "\\" in fid and "/" not in fid and fid.startswith("PT000000\\")
        assert tuple(fid.split("\\")) == read[str(r["source_path"])]  # no ';1' in a File ID
    db = sqlite3.connect(store / "index.sqlite")
    assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "2"
    db.close()


def test_scanned_file_has_no_dicomdir_file_id(small_course: Path, tmp_path: Path) -> None:
    import_to_store(small_course, tmp_path / "s")
    rows = index_rows(tmp_path / "s")
    assert len(rows) == 9 and all(r["source_file_id"] is None for r in rows)
    assert {r["source_path"] for r in rows} == {p.name for p in small_course.iterdir()}


def test_schema_1_store_is_migrated_nothing_lost(course_iso: Path, tmp_path: Path) -> None:
    store = tmp_path / "s"
    import_to_store(course_iso, store)
    new = {r["sop_instance_uid"]: r for r in index_rows(store)}
    old = _to_schema_1(store)
    again = import_to_store(course_iso, store)  # the new code opens a schema-1 store
    assert again.summary()["already_present"] == len(old) and again.complete
    rows = {r["sop_instance_uid"]: r for r in assert_store_consistent(store)}
    assert len(rows) == len(old)
    for v1 in old:
        got = rows[v1["sop_instance_uid"]]
        # every schema-1 value is kept; its path read moved to source_path
        assert {c: got[c] for c in v1 if c != "source_file_id"} == {
            c: v for c, v in v1.items() if c != "source_file_id"
        }
        assert got["source_path"] == v1["source_file_id"]
        # met again through the DICOMDIR: the File ID is filled in, as a new import has it
        assert got["source_file_id"] == new[v1["sop_instance_uid"]]["source_file_id"]
    db = sqlite3.connect(store / "index.sqlite")
    assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "2"
    db.close()


def test_stored_file_that_rotted_is_replaced_from_the_medium(
    small_course: Path, tmp_path: Path
) -> None:
    store = tmp_path / "s"
    import_to_store(small_course, store)
    good = {rel: sha256(p) for rel, p in store_files(store).items()}
    plan_uid = str(pydicom.dcmread(small_course / "RP.photon.dcm").SOPInstanceUID)
    victim = next(p for rel, p in store_files(store).items() if plan_uid in rel)
    data = bytearray(victim.read_bytes())
    data[-3] ^= 0x01  # one bit, inside the last element
    victim.write_bytes(bytes(data))
    rotten = sha256(victim)

    result = import_to_store(small_course, store)
    assert result.complete
    replaced = next(r for r in result.instances if r.sop_instance_uid == plan_uid)
    assert replaced.outcome is Outcome.IMPORTED
    assert [f.code for f in replaced.findings] == ["I511"]
    assert result.summary()["already_present"] == 8
    assert {rel: sha256(p) for rel, p in store_files(store).items()} == good
    aside = store / "conflicts" / "damaged" / plan_uid / f"{rotten}.dcm"
    assert aside.is_file() and sha256(aside) == rotten
    assert_store_consistent(store)
    events = [json.loads(line) for line in (store / "import-log.jsonl").read_text().splitlines()]
    assert any(e["event"] == "damaged" and e["sha256"] == rotten for e in events)
    # and a third run finds nothing to do
    third = import_to_store(small_course, store)
    assert third.summary()["already_present"] == 9
    assert "I511" not in {f.code for f in third.all_findings}


def test_rotted_file_of_a_rewritten_instance(tmp_path: Path) -> None:
    """A bare dataset is stored with a new File Meta: its stored hash is what is checked."""
    from fixtures.rtcourse import write_course

    write_course(tmp_path / "bare", seed=12, n_slices=2, quirks=["no_meta"])
    store = tmp_path / "s"
    import_to_store(tmp_path / "bare", store)
    good = {rel: sha256(p) for rel, p in store_files(store).items()}
    victim = sorted(store_files(store).values())[0]
    data = victim.read_bytes()
    victim.write_bytes(data[:-1] + bytes([data[-1] ^ 0x80]))
    result = import_to_store(tmp_path / "bare", store)
    assert result.complete
    assert [f.code for f in result.all_findings if f.code == "I511"] == ["I511"]
    assert {rel: sha256(p) for rel, p in store_files(store).items()} == good
    shutil.rmtree(store / "conflicts")
    assert_store_consistent(store)
