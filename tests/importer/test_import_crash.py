"""SIGKILL an import at chosen points, import again: index and files agree exactly.

The import runs in a subprocess with the test hook ``MEDIAKIT_TEST_KILL_AT=POINT:N``
(mediakit/importer/store.py), which kills it the Nth time it reaches POINT:
``copied`` (temporary fsynced), ``renamed`` (file in place, row not committed),
``committed`` (row committed, not logged). ``MEDIAKIT_CRASH_TRIALS`` (default 6)
sets how many (point, N) trials run; raise it for a longer dedicated run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.rtcourse import write_course
from mediakit.importer.store import KILL_HOOK_ENV
from tests.importer.storecheck import assert_store_consistent, index_rows, sha256, store_files

POINTS = ("copied", "renamed", "committed")
INSTANCES = 26  # 2 x (6 CT + 7 RT objects)
TRIALS = int(os.environ.get("MEDIAKIT_CRASH_TRIALS", "6"))
# Deterministic spread over points and positions: trial i kills at POINTS[i % 3], the Nth time.
CASES = [(POINTS[i % 3], 1 + (i * 11) % INSTANCES) for i in range(TRIALS)]


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Part 10 files and bare datasets (which the store rewrites with a File Meta)."""
    root = tmp_path_factory.mktemp("crash") / "medium"
    write_course(root / "a", seed=21, n_slices=6)
    write_course(root / "b", seed=22, n_slices=6, quirks=["no_meta"])
    return root


def _import(medium: Path, store: Path, kill_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != KILL_HOOK_ENV}
    if kill_at:
        env[KILL_HOOK_ENV] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "mediakit", "import", str(medium), "--to", str(store), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _after_crash(store: Path, point: str) -> None:
    """What a killed import may leave: rows only with complete files, at most one file extra.

    Killed at "renamed", exactly one file has no row yet; at "copied", none does and a
    temporary waits in .tmp/; at "committed", rows and files agree already (a bare
    dataset's original copy may still wait in .tmp/ beside its rewritten one).
    """
    rows, files = index_rows(store), store_files(store)
    assert {str(r["path"]) for r in rows} <= set(files), "a row without its file"
    for r in rows:
        assert sha256(files[str(r["path"])]) == r["sha256"]
    assert len(files) - len(rows) == (1 if point == "renamed" else 0)
    if point == "copied":
        assert list((store / ".tmp").iterdir())
    assert not [p for p in store.rglob("*.tmp") if p.is_file() and p.parent != store / ".tmp"]


@pytest.mark.parametrize(("point", "nth"), CASES, ids=[f"{p}-{n}" for p, n in CASES])
def test_sigkill_then_rerun(medium: Path, tmp_path: Path, point: str, nth: int) -> None:
    store = tmp_path / "store"
    killed = _import(medium, store, f"{point}:{nth}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    _after_crash(store, point)
    done = _import(medium, store, None)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["summary"]
    assert summary["imported"] + summary["already_present"] == INSTANCES
    rows = assert_store_consistent(store)
    assert len(rows) == INSTANCES
    # an orphan of the killed run is adopted with its source, not recovered without one
    assert all(r["source_medium"] == str(medium) for r in rows)


def test_several_crashes_in_a_row(medium: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    for kill_at in ("renamed:3", "copied:2", "committed:4", "renamed:1"):
        assert _import(medium, store, kill_at).returncode == -signal.SIGKILL
        _after_crash(store, kill_at.split(":")[0])
    done = _import(medium, store, None)
    assert done.returncode == 0, done.stderr
    assert len(assert_store_consistent(store)) == INSTANCES
    again = json.loads(_import(medium, store, None).stdout)["summary"]
    assert again["already_present"] == INSTANCES and again["imported"] == 0


def test_hook_is_inert_without_the_variable(medium: Path, tmp_path: Path) -> None:
    run = _import(medium, tmp_path / "store", "nowhere:1")
    assert run.returncode == 0 and json.loads(run.stdout)["summary"]["imported"] == INSTANCES
