"""Example media, one folder per case: each must make ``check`` report exactly its codes.

tests/media/{positive,negative}/<case>/make.py changes a copy of a clean base
medium; expect.toml lists the error, warning and info codes expected (infos are
compared only when listed). Every case also runs through the command line:
no traceback, exit 1 exactly when there is an error, within the time budget.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.rtcourse import write_course
from mediakit.build import build_medium
from mediakit.check.runner import check_medium
from mediakit.manifest import MANIFEST_NAME
from mediakit.profiles import load_profile
from tests.conftest import run_cli

CASES = Path(__file__).parent / "media"
SECONDS = 30  # issue 8: every hostile case finishes well within this


def _cases() -> list[Path]:
    return sorted(p.parent for p in CASES.glob("*/*/make.py"))


@pytest.fixture(scope="session")
def base_medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean STD-GEN-CD folder medium: 2 CT slices and the 7 RT objects, no manifest."""
    export = tmp_path_factory.mktemp("base-export")
    write_course(export, 5, n_slices=2)
    out = tmp_path_factory.mktemp("base") / "medium"
    result = build_medium([export], out, load_profile("STD-GEN-CD"), fmt="dir", volume_id="BASE")
    assert result.output is not None
    (out / MANIFEST_NAME).unlink()
    return out


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
    started = time.monotonic()
    report = check_medium(target, profile)
    assert time.monotonic() - started < SECONDS
    got: dict[str, set[str]] = {"error": set(), "warning": set(), "info": set()}
    for f in report.findings:
        got[f.severity.value].add(f.code)
    lines = "\n".join(f.line() for f in report.findings)
    assert got["error"] == set(expect.get("errors", [])), lines
    assert got["warning"] == set(expect.get("warnings", [])), lines
    if "infos" in expect:
        assert got["info"] == set(expect["infos"]), lines
    if case.parent.name == "positive":
        assert not got["error"], lines
    else:
        assert got["error"] or got["warning"], "a negative case must find something"

    cli = run_cli("check", target, "--profile", profile.id, "--json")
    assert "Traceback" not in cli.stderr and cli.returncode == (1 if got["error"] else 0)
    assert json.loads(cli.stdout)["counts"]["error"] == sum(
        f.severity.value == "error" for f in report.findings
    )
