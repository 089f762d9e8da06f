"""The README stays true: its code table, its Quick start, its JSON keys, its commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mediakit.findings import CODES
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def section(title: str) -> str:
    """The text under a '## title' heading, up to the next '## ' heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, title
    return match[1]


def test_code_table_is_the_registry() -> None:
    table = README.split("<!-- codes:start -->")[1].split("<!-- codes:end -->")[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in table.strip().splitlines()[2:]
    ]
    assert [r[0] for r in rows] == list(CODES), "same codes, same order as findings.CODES"
    for code, severity, title, ref in rows:
        entry = CODES[code]
        assert (severity, title, ref) == (entry.severity.value, entry.title, entry.ref), code


def test_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    block = section("Quick start").split("```sh")[1].split("```")[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2, commands
    assert "pip install ." in commands[0] and "mediakit build" in commands[0]
    assert commands[1] == "sh tests/install-and-run.sh"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "tests/install-and-run.sh" in ci


def test_every_command_is_documented() -> None:
    for command in ("build", "check", "ls", "profiles"):
        assert re.search(rf"^### `mediakit {command}\b", README, re.M), command


def _documented_keys(prose: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", prose))


def test_json_keys_are_documented(course_iso: Path, tmp_path: Path, course_dir: Path) -> None:
    doc_section = section("JSON output")
    documented = _documented_keys(doc_section)
    check = json.loads(run_cli("check", course_iso, "--json").stdout)
    build = json.loads(run_cli("build", course_dir, "-o", tmp_path / "o.iso", "--json").stdout)
    ls = json.loads(run_cli("ls", course_iso, "--json").stdout)
    keys = set(check) | set(build) | set(ls)
    patient = ls["patients"][0]
    study = patient["studies"][0]
    series = study["series"][0]
    keys |= set(patient) | set(study) | set(series) | set(series["instances"][0])
    keys |= set(check["counts"]) - {"error", "warning", "info"}
    missing = keys - documented
    assert not missing, f"undocumented JSON keys: {sorted(missing)}"


def test_the_check_example_line_has_the_shape_we_print() -> None:
    example = re.search(r"^(error|warning|info) +([A-Z]\d{3}) (\S+)  (.+)  \[(.+)\]$", README, re.M)
    assert example and example[2] in CODES


def test_the_build_section_lists_every_fix_it_reports() -> None:
    """ "Every such fix is a warning finding (...)": every code build fixes, and only those."""
    from mediakit.check.part10 import FIXABLE

    build = README.split("### `mediakit build")[1].split("### `mediakit check")[0]
    sentence = build.split("Every such fix is a")[1].split(").")[0]
    assert set(re.findall(r"`(P\d{3})`", sentence)) == set(FIXABLE), sentence
