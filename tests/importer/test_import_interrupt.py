"""Ctrl-C (SIGINT) during an import: exit 130, one line, the log says so, the store is clean.

The import runs in a subprocess. Either the test hook ``MEDIAKIT_TEST_KILL_AT=POINT:N:INT``
makes it send SIGINT to itself at an exact point (between rename and commit is the worst),
or the test sends SIGINT from outside once the import is under way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediakit.importer.store import KILL_HOOK_ENV
from tests.importer.scp import AET, Behaviour, flaky_scp
from tests.importer.storecheck import assert_store_consistent, index_rows

INSTANCES = 26


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fixtures.rtcourse import write_course

    root = tmp_path_factory.mktemp("sigint") / "medium"
    write_course(root / "a", seed=71, n_slices=6)
    write_course(root / "b", seed=72, n_slices=6, quirks=["no_meta"])
    return root


def _start(args: list[str], hook: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != KILL_HOOK_ENV}
    if hook:
        env[KILL_HOOK_ENV] = hook
    return subprocess.Popen(
        [sys.executable, "-m", "mediakit", "import", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _log(store: Path) -> list[dict[str, object]]:
    lines = (store / "import-log.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _check_interrupted(run: subprocess.Popen[str], store: Path, *, as_json: bool) -> None:
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err
    assert "Traceback" not in err
    if as_json:
        doc = json.loads(out)
        assert doc["status"] == "interrupted"
        assert doc["summary"]["imported"] == len(index_rows(store))
    end = _log(store)[-1]
    assert end["event"] == "run-end" and end["status"] == "interrupted"
    assert_store_consistent(store)  # no file without its row, no temporary left


def _complete(medium: Path, store: Path) -> None:
    done = _start([str(medium), "--to", str(store), "--json"])
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    summary = json.loads(out)["summary"]
    assert summary["imported"] + summary["already_present"] == INSTANCES
    assert len(assert_store_consistent(store)) == INSTANCES
    assert _log(store)[-1]["status"] == "done"


@pytest.mark.parametrize("point", ["copied", "renamed", "committed"])
def test_sigint_at_each_point_leaves_a_clean_store(
    medium: Path, tmp_path: Path, point: str
) -> None:
    store = tmp_path / "store"
    run = _start([str(medium), "--to", str(store), "--json"], f"{point}:5:INT")
    _check_interrupted(run, store, as_json=True)
    assert len(index_rows(store)) == 5  # the instance in hand was finished, no more
    _complete(medium, store)


def test_sigint_from_outside_mid_import(rt200_iso: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    run = _start([str(rt200_iso), "--to", str(store)])
    deadline = time.monotonic() + 120
    while run.poll() is None and time.monotonic() < deadline:
        log = store / "import-log.jsonl"
        if log.exists() and '"event": "imported"' in log.read_text():
            break
        time.sleep(0.005)
    assert run.poll() is None, "the import ended before it could be interrupted"
    run.send_signal(signal.SIGINT)
    _check_interrupted(run, store, as_json=False)
    assert 0 < len(index_rows(store)) < 200
    done = _start([str(rt200_iso), "--to", str(store), "--json"])
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    summary = json.loads(out)["summary"]
    assert summary["imported"] + summary["already_present"] == 200
    assert len(assert_store_consistent(store)) == 200


def test_sigint_while_sending(medium: Path) -> None:
    with flaky_scp(Behaviour(delay=0.2)) as (port, seen):
        run = _start([str(medium), "--pacs", f"{AET}@127.0.0.1:{port}", "--json"])
        deadline = time.monotonic() + 60
        while not seen.stored and time.monotonic() < deadline:
            time.sleep(0.01)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err
    doc = json.loads(out)
    assert doc["status"] == "interrupted"
    told = {i["sop_instance_uid"] for i in doc["instances"] if i["outcome"] == "imported"}
    assert told <= set(seen.stored) and len(seen.stored) < INSTANCES
