"""The command line contract of design.md: help, exit codes, one-line errors, JSON on stdout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian

from mediakit import __version__
from mediakit.cli import main
from mediakit.profiles import profile_ids
from tests.conftest import assert_one_line_error, run_cli

COMMANDS = ("build", "check", "ls", "profiles")


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_lists_every_command(flag: str) -> None:
    result = CliRunner().invoke(main, [flag], catch_exceptions=False)
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output
    assert "Examples:" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help_with_examples(command: str) -> None:
    result = CliRunner().invoke(main, [command, "-h"], catch_exceptions=False)
    assert result.exit_code == 0 and "Examples:" in result.output
    assert f"mediakit {command}" in result.output


def test_python_dash_m_and_version() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mediakit", "--version"], capture_output=True, text=True
    )
    assert run.returncode == 0 and __version__ in run.stdout


def test_profiles_lists_the_seven_and_shows_one() -> None:
    listing = run_cli("profiles")
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == list(profile_ids())
    shown = run_cli("profiles", "std-gen-cd")
    assert shown.returncode == 0
    assert "PS3.11 Annex D" in shown.stdout and "edition" in shown.stdout
    assert "1.2.840.10008.1.2.1" in shown.stdout and "681,984,000 bytes" in shown.stdout


def test_unknown_profile_is_exit_2() -> None:
    assert_one_line_error(run_cli("profiles", "STD-GEN-FLOPPY"), 2, "STD-GEN-FLOPPY")


def test_missing_medium_is_exit_2(tmp_path: Path) -> None:
    for command in ("check", "ls"):
        run = run_cli(command, tmp_path / "nothing.iso")
        assert_one_line_error(run, 2, "nothing.iso", "no such file")


def test_a_file_that_is_no_medium_is_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "holiday.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0" + bytes(40000))
    assert_one_line_error(run_cli("check", junk), 2, "holiday.jpg", "not an ISO 9660 image")


def _refused(*args: object) -> subprocess.CompletedProcess[str]:
    """Like run_cli, with a short timeout: opening a FIFO would block for ever."""
    return subprocess.run(
        [sys.executable, "-m", "mediakit", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.mark.parametrize("kind", ["fifo", "fifo-dicomdir", "device"])
def test_a_fifo_or_a_device_is_refused_without_opening_it(kind: str, tmp_path: Path) -> None:
    """A named pipe (even one called DICOMDIR) or /dev/zero: one line, exit 2, no blocking."""
    if kind == "device":
        target, what = Path("/dev/zero"), "character device"
    else:
        target = tmp_path / ("DICOMDIR" if kind == "fifo-dicomdir" else "disc.iso")
        os.mkfifo(target)
        what = "named pipe"
    for command in (("check",), ("ls",), ("import", "--to", tmp_path / "store")):
        assert_one_line_error(_refused(*command, target), 2, str(target), what)


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    assert run_cli("build", tmp_path).returncode == 2  # no -o
    assert run_cli("check").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_an_internal_error_is_exit_3_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, course_iso: Path
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr("mediakit.check.runner.check_medium", broken)
    monkeypatch.delenv("MEDIAKIT_DEBUG", raising=False)
    result = CliRunner().invoke(main, ["check", str(course_iso)], catch_exceptions=False)
    assert result.exit_code == 3
    assert "internal error (ZeroDivisionError: planted)" in result.output
    assert "MEDIAKIT_DEBUG=1" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("MEDIAKIT_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        CliRunner().invoke(main, ["check", str(course_iso)], catch_exceptions=False)


def test_json_is_one_document_on_stdout_and_nothing_else(course_iso: Path) -> None:
    for command in ("check", "ls"):
        run = run_cli(command, course_iso, "--json")
        assert run.returncode == 0 and run.stderr == ""
        doc = json.loads(run.stdout)
        assert doc["format"] == 1


def test_exit_code_is_never_a_count(tmp_path: Path) -> None:
    """256 error findings must not wrap to exit 0 (style.md: exit codes come from a table)."""
    medium = tmp_path / "medium"
    medium.mkdir()
    for n in range(256):
        ds = Dataset()
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.SOPInstanceUID = f"2.25.{1000 + n}"
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        ds.save_as(medium / f"F{n:05d}", enforce_file_format=True)
    run = run_cli("check", medium, "--profile", "STD-GEN-CD", "--json")
    doc = json.loads(run.stdout)
    assert doc["counts"]["error"] > 256
    assert run.returncode == 1


def test_strict_makes_warnings_fail(tmp_path: Path, course_dir: Path) -> None:
    """A medium with one warning: exit 0, and exit 1 under --strict."""
    out = tmp_path / "usb"
    assert run_cli("build", course_dir, "-o", out, "--format", "dir", "-q").returncode == 0
    (out / "PT000000" / "ST000000" / "SE000000" / "IM000000").rename(
        out / "PT000000" / "ST000000" / "SE000000" / "im000000"
    )  # found only by ignoring case: F203 warning (and the manifest no longer matches)
    (out / "SHA256.TXT").unlink()
    plain = run_cli("check", out, "--profile", "STD-GEN-CD", "--json")
    doc = json.loads(plain.stdout)
    assert [f["code"] for f in doc["findings"] if f["severity"] != "info"] == ["F203"]
    assert plain.returncode == 0 and doc["status"] == "pass"
    strict = run_cli("check", out, "--profile", "STD-GEN-CD", "--strict", "--json")
    assert strict.returncode == 1 and json.loads(strict.stdout)["status"] == "fail"


def test_quiet_prints_only_the_summary(course_iso: Path) -> None:
    run = run_cli("check", course_iso, "--quiet")
    assert run.returncode == 0
    assert run.stdout.strip().splitlines() == ["STD-GEN-CD: 0 errors, 0 warnings in 17 files (OK)"]


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux script not installed")
def test_a_progress_bar_only_on_a_terminal(course_iso: Path) -> None:
    """On a pseudo-terminal (util-linux script) check draws a bar on stderr; never otherwise."""

    def on_tty(*args: str) -> str:
        command = " ".join([sys.executable, "-m", "mediakit", *args])
        run = subprocess.run(
            ["script", "-q", "-e", "-c", f"stty cols 120 rows 40; {command}", "/dev/null"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        return run.stdout

    assert "reading:" in on_tty("check", str(course_iso))
    assert "reading:" not in on_tty("check", str(course_iso), "--quiet")
    assert "reading:" not in on_tty("check", str(course_iso), "--json")
    assert "reading:" not in run_cli("check", course_iso).stderr  # not a terminal
