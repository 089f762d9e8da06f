"""A full disk: build and import stop with one clear error, leave nothing half-made, resume.

The output or store lives on a 4 MiB tmpfs (mounting one needs root; CI runs
as root, elsewhere the tests skip and say why). A filler file leaves a chosen
amount of space, so the disk fills at different steps of an import: copying
a file off the medium, re-encoding a bare dataset, committing the index,
appending to the log.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.rtcourse import write_course
from tests.conftest import assert_one_line_error, run_cli
from tests.importer.storecheck import assert_store_consistent, index_rows, store_files

SIZE = 4 << 20
LEAVE = [0, 200_000, 900_000, 1_800_000]  # bytes left free: the disk fills at other steps


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB file system of its own, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a 4 MiB tmpfs needs root (CI runs as root)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    run = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {run.stderr.strip()}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(disk: Path, leave: int) -> Path:
    """A filler file that leaves about ``leave`` bytes free."""
    filler = disk / "filler"
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with open(filler, "wb") as fp:
        fp.write(b"\0" * max(0, free - leave))
    return filler


def _consistent_so_far(store: Path) -> None:
    """Whatever a stopped import stored is whole and indexed; no temporary is left."""
    if not (store / "index.sqlite").exists():
        assert not store_files(store)
        return
    try:
        index_rows(store)
    except sqlite3.OperationalError:  # the disk filled before the index had its tables
        assert not store_files(store)
        assert not list((store / ".tmp").iterdir())
        return
    assert_store_consistent(store)


@pytest.fixture(scope="module")
def too_big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course of about 5.4 MB: more than the small disk holds."""
    out = tmp_path_factory.mktemp("full") / "big"
    write_course(out, 31, n_slices=40, matrix=256)
    return out


@pytest.fixture(scope="module", params=["part10", "bare"])
def medium(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course of about 2.7 MB: fits an empty small disk. Bare datasets are re-encoded."""
    out = tmp_path_factory.mktemp("fits") / str(request.param)
    quirks = ["no_meta"] if request.param == "bare" else []
    write_course(out, 32, n_slices=20, matrix=256, quirks=quirks)
    return out


@pytest.mark.parametrize("fmt", ["iso", "dir", "zip"])
def test_build_on_a_full_disk(too_big: Path, small_disk: Path, fmt: str) -> None:
    out = small_disk / f"transfer.{fmt}"
    run = run_cli("build", too_big, "-o", out, "--format", fmt, "--quiet")
    assert_one_line_error(run, 2, f"{out}:", "the disk is full")
    assert list(small_disk.iterdir()) == [], "an output or a partial was left behind"


@pytest.mark.parametrize("leave", LEAVE)
def test_import_on_a_full_disk_then_again(medium: Path, small_disk: Path, leave: int) -> None:
    store = small_disk / "store"
    filler = _fill(small_disk, leave)
    full = run_cli("import", medium, "--to", store, "--json")
    assert_one_line_error(full, 2, str(store), "the disk is full")
    _consistent_so_far(store)
    filler.unlink()
    again = run_cli("import", medium, "--to", store, "--json")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)["summary"]
    assert summary["imported"] + summary["already_present"] == 27
    assert len(assert_store_consistent(store)) == 27
    for line in (store / "import-log.jsonl").read_text().splitlines():
        json.loads(line)  # the log stays one JSON object per line, even after a failed write
