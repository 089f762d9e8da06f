"""SIGKILL a build (and an import) at chosen and at random moments: no output that looks done.

A build writes its medium as ``.NAME.partial-PID`` beside the output and renames
it only after it passed verification. Killed while writing, or after writing and
before the rename, it leaves no file or folder under the final name; the next
build of that output removes the partial (its PID is gone) and succeeds. Killed
at a random moment, the output is either absent or complete (it checks clean
against its own manifest). ``MEDIAKIT_CRASH_TRIALS`` (default 3 here) sets how
many random moments are tried, for builds and imports alike; README "Tests".
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.rtcourse import write_course
from mediakit.volumes import remove_stale_partials
from tests.conftest import run_cli
from tests.importer.storecheck import assert_store_consistent

TRIALS = int(os.environ.get("MEDIAKIT_CRASH_TRIALS", "3"))
INSTANCES = 47  # 40 CT slices and the 7 RT objects


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 5.4 MB: long enough to write that a kill lands inside the writing."""
    out = tmp_path_factory.mktemp("crash-build") / "export"
    write_course(out, 41, n_slices=40, matrix=256)
    return out


def _start(*args: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mediakit", *map(str, args), "--quiet"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _partials(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if ".partial-" in p.name)


def _size(path: Path) -> int:
    """Bytes of a file, or of every file below a folder (it may change under us)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except FileNotFoundError:
                continue
    return total


def _kill_when(proc: subprocess.Popen[bytes], ready: object, timeout: float = 60) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()`` is true; False if it ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if ready():  # type: ignore[operator]
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.0005)
    proc.kill()
    raise AssertionError("the build neither ended nor reached the point")


def _complete(out: Path) -> None:
    """The output a build finished: it checks clean, its manifest verifying every file."""
    run = run_cli("check", out, "--json")
    assert run.returncode == 0, run.stdout[-2000:]
    assert not [f for f in json.loads(run.stdout)["findings"] if f["code"] == "V306"]


def _rebuild(export: Path, out: Path, fmt: str) -> None:
    """The next build of the same output removes the dead build's partial and succeeds."""
    run = run_cli("build", export, "-o", out, "--format", fmt, "--quiet")
    assert run.returncode == 0, run.stderr
    _complete(out)
    assert _partials(out.parent) == []


@pytest.mark.parametrize("fmt", ["iso", "dir", "zip"])
def test_killed_while_writing(export: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"transfer.{fmt}"
    proc = _start("build", export, "-o", out, "--format", fmt)
    killed = _kill_when(proc, lambda: any(_size(p) > 0 for p in _partials(tmp_path)))
    assert killed, "the build ended before it began writing"
    assert not out.exists() and not out.is_symlink()
    assert len(_partials(tmp_path)) == 1  # the dead build's, hidden
    _rebuild(export, out, fmt)


@pytest.mark.parametrize("fmt", ["dir"])  # a folder: many files, the last one the manifest
def test_killed_after_writing_before_the_rename(export: Path, tmp_path: Path, fmt: str) -> None:
    reference = tmp_path / "reference" / f"transfer.{fmt}"
    reference.parent.mkdir()
    assert run_cli("build", export, "-o", reference, "--format", fmt).returncode == 0
    full = _size(reference)
    out = tmp_path / f"transfer.{fmt}"
    proc = _start("build", export, "-o", out, "--format", fmt)
    assert _kill_when(proc, lambda: any(_size(p) >= full for p in _partials(tmp_path)))
    assert not out.exists()
    _rebuild(export, out, fmt)


def test_killed_at_random_moments(export: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    assert run_cli("build", export, "-o", tmp_path / "timed.iso").returncode == 0
    whole = time.monotonic() - started
    rng = random.Random(8)
    for trial in range(TRIALS):
        out = tmp_path / f"trial{trial}.iso"
        delay = rng.uniform(0.1, 1.1) * whole
        proc = _start("build", export, "-o", out)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if out.exists():  # it had renamed already: then it is whole
            _complete(out)
        else:
            _rebuild(export, out, "iso")


def test_only_partials_of_dead_builds_of_this_output_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "transfer.iso"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        names = {
            "dead": f".transfer.iso.partial-{dead.pid}",
            "live": f".transfer.iso.partial-{sleeper.pid}",
            "ours": f".transfer.iso.partial-{os.getpid()}",
            "other output": f".other.iso.partial-{dead.pid}",
            "not our pattern": f".transfer.iso.partial-{dead.pid}.bak",
            "no such pid": ".transfer.iso.partial-9999999999",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"partial")
        (tmp_path / f".transfer.iso.partial-{dead.pid}x").mkdir()
        link = tmp_path / f".transfer.iso.partial-{dead.pid + 100000}"
        link.symlink_to(tmp_path / names["live"])
        folder = tmp_path / f".transfer.iso.partial-{dead.pid + 200000}"
        (folder / "PT000000").mkdir(parents=True)
        (folder / "PT000000" / "IM000000").write_bytes(b"x")

        removed = {p.name for p in remove_stale_partials(out)}

        assert removed == {names["dead"], names["no such pid"], folder.name}
        left = {p.name for p in tmp_path.iterdir()}
        assert {names["live"], names["ours"], names["other output"], link.name} <= left
        assert names["not our pattern"] in left and (tmp_path / names["live"]).exists()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.fixture(scope="module")
def import_medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash-import") / "medium"
    write_course(root / "a", seed=43, n_slices=6)
    write_course(root / "b", seed=44, n_slices=6, quirks=["no_meta"])
    return root


def test_import_killed_at_random_moments(import_medium: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    timed = run_cli("import", import_medium, "--to", tmp_path / "timed", "--json")
    whole = time.monotonic() - started
    total = json.loads(timed.stdout)["summary"]["imported"]
    assert total == 26
    rng = random.Random(9)
    for trial in range(TRIALS):
        store = tmp_path / f"store{trial}"
        proc = _start("import", import_medium, "--to", store)
        time.sleep(rng.uniform(0.2, 1.0) * whole)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        again = run_cli("import", import_medium, "--to", store, "--json")
        assert again.returncode == 0, again.stderr
        summary = json.loads(again.stdout)["summary"]
        assert summary["imported"] + summary["already_present"] == total
        assert len(assert_store_consistent(store)) == total
