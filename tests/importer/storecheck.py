"""Independent checks of a store: walked with os, read with sqlite3 and hashlib, not mediakit."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path


def sha256(path: Path) -> str:
    """SHA-256 of a file, computed here, independently of mediakit."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def store_files(store: Path) -> dict[str, Path]:
    """Every instance file of a store: relative path -> file (walked here, not by mediakit)."""
    out = {}
    for dirpath, _dirs, files in os.walk(store):
        rel = Path(dirpath).relative_to(store)
        if rel.parts and rel.parts[0] in ("conflicts", ".tmp"):
            continue
        for name in files:
            if len(rel.parts) == 2 and name.endswith(".dcm"):
                out[(rel / name).as_posix()] = Path(dirpath) / name
    return out


def index_rows(store: Path) -> list[dict[str, object]]:
    """The rows of the store's index, read with sqlite3 directly."""
    db = sqlite3.connect(store / "index.sqlite")
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM instances")]
    finally:
        db.close()


def assert_store_consistent(store: Path) -> list[dict[str, object]]:
    """Index and files agree exactly: one row per file, hashes match, no stray temporaries."""
    rows = index_rows(store)
    files = store_files(store)
    paths = [str(r["path"]) for r in rows]
    assert len(paths) == len(set(paths)), "two rows for one file"
    assert len({r["sop_instance_uid"] for r in rows}) == len(rows), "duplicate SOP Instance UID"
    assert set(paths) == set(files), (
        f"rows without files: {sorted(set(paths) - set(files))[:3]}; "
        f"files without rows: {sorted(set(files) - set(paths))[:3]}"
    )
    for r in rows:
        assert sha256(files[str(r["path"])]) == r["sha256"], r["path"]
        study, series, name = str(r["path"]).split("/")
        assert (study, series, name) == (
            r["study_instance_uid"],
            r["series_instance_uid"],
            f"{r['sop_instance_uid']}.dcm",
        )
    visible_tmp = [p for p in store.rglob("*.tmp") if p.is_file() and p.parent != store / ".tmp"]
    assert not visible_tmp, visible_tmp
    leftovers = list((store / ".tmp").iterdir()) if (store / ".tmp").exists() else []
    assert not leftovers, f"temporaries left after a finished import: {leftovers[:3]}"
    return rows
