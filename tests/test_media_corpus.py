"""Example media, one folder per case: each must make ``check`` report exactly its codes.

tests/media/{positive,negative}/<case>/make.py changes a copy of a clean base
medium; expect.toml lists the error, warning and info codes expected (infos are
compared only when listed). Every case also runs through the command line:
no traceback, exit 1 exactly when there is an error, within the time budget.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mediakit.profiles import load_profile

CASES = Path(__file__).parent / "media"
SECONDS = 30  # issue 8: each of check, ls and import finishes within this, on every case
STARTUP = 30  # and the one process running all three: its interpreter, imports and report
MEMORY_LIMIT = 3 << 30  # address space for check, ls and import together: no allocation by a claim


def _cases() -> list[Path]:
    return sorted(p.parent for p in CASES.glob("*/*/make.py"))


def _load(case: Path) -> Callable[[Path], Path]:
    spec = importlib.util.spec_from_file_location(f"case_{case.name}", case / "make.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    make: Callable[[Path], Path] = module.make
    return make


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_reports_exactly_its_codes(case: Path, base_medium: Path, tmp_path: Path) -> None:
    expect = tomllib.loads((case / "expect.toml").read_text())
    medium = tmp_path / "medium"
    shutil.copytree(base_medium, medium, symlinks=True)
    target = _load(case)(medium)
    profile = load_profile(expect.get("profile", "STD-GEN-CD"))
    outcome = _every_command_behaves(target, tmp_path, profile.id)
    doc = json.loads(outcome["check"]["output"])
    got: dict[str, set[str]] = {"error": set(), "warning": set(), "info": set()}
    for f in doc["findings"]:
        got[f["severity"]].add(f["code"])
    lines = "\n".join(
        f"{f['severity']} {f['code']} {f['path']} {f['message']}" for f in doc["findings"]
    )
    assert got["error"] == set(expect.get("errors", [])), lines
    assert got["warning"] == set(expect.get("warnings", [])), lines
    if "infos" in expect:
        assert got["info"] == set(expect["infos"]), lines
    if case.parent.name == "positive":
        assert not got["error"], lines
    else:
        assert got["error"] or got["warning"], "a negative case must find something"
    assert outcome["check"]["exit"] == (1 if got["error"] else 0)


def _tree(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every path below root (not below skip) with its size and mtime."""
    out = {}
    for p in root.rglob("*"):
        if not p.is_relative_to(skip):
            st = p.lstat()
            out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _every_command_behaves(target: Path, tmp_path: Path, profile: str) -> dict[str, Any]:
    """check, ls and import: within the time, under the memory limit, no traceback, never
    exit 3, and nothing written outside the store (issue 8). What each command did."""
    store = tmp_path / "store"
    before = _tree(tmp_path, store)
    run = subprocess.run(
        [sys.executable, str(CASES / "_drive.py"), str(target), str(store), profile],
        capture_output=True,
        text=True,
        preexec_fn=_limit_memory,
        timeout=3 * SECONDS + STARTUP,  # a hang stops here; the rule is asserted per command
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    outcomes: dict[str, Any] = json.loads(run.stdout)
    for command, outcome in outcomes.items():
        brief = {k: v for k, v in outcome.items() if k != "output"}
        assert outcome["exit"] in (0, 1, 2), (command, brief, outcome["output"][-2000:])
        assert not outcome["traceback"] and outcome["seconds"] < SECONDS, (command, brief)
    assert _tree(tmp_path, store) == before, "something was written outside the store"
    return outcomes
