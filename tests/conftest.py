"""Shared fixtures: the synthetic course, pydicom's RT files, the vendor media in ../shared."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from fixtures.rtcourse import write_course
from mediakit.build import build_medium
from mediakit.manifest import MANIFEST_NAME
from mediakit.profiles import load_profile

# ../shared/testdata beside the project root (never copied in); MEDIAKIT_SHARED overrides.
SHARED_TESTDATA = (
    Path(os.environ.get("MEDIAKIT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    / "testdata"
)


def pydicom_file(name: str) -> Path:
    """A file from the pydicom wheel's test data (no download)."""
    found = get_testdata_file(name)
    assert found is not None, name
    return Path(str(found))


def needs(tool: str) -> pytest.MarkDecorator:
    """Skip unless an independent oracle is installed."""
    return pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} not installed")


@pytest.fixture
def pydicom_rt(tmp_path: Path) -> Path:
    """A folder with pydicom's RT plan (implicit, no Instance Number), dose and structures."""
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("rtplan.dcm", "rtdose.dcm", "rtstruct.dcm", "CT_small.dcm"):
        shutil.copy(pydicom_file(name), folder / name)
    return folder


def run_cli(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m mediakit ARGS`` in a fresh process, as a user runs it (no stdin, no tty)."""
    return subprocess.run(
        [sys.executable, "-m", "mediakit", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def assert_one_line_error(run: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """An expected error: the exit code, one line on stderr naming what failed, no traceback."""
    assert run.returncode == code, (run.returncode, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mediakit: "), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(scope="session")
def course_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default synthetic RT course (seed 7), as a TPS export folder. Do not modify."""
    folder = tmp_path_factory.mktemp("course") / "export"
    write_course(folder, 7)
    return folder


@pytest.fixture(scope="session")
def course_iso(course_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course built onto a STD-GEN-CD image with volume id MKTEST01. Do not modify."""
    out = tmp_path_factory.mktemp("built") / "course.iso"
    result = build_medium([course_dir], out, load_profile("STD-GEN-CD"), volume_id="MKTEST01")
    assert result.output == out, [f.line() for f in result.findings]
    return out


@pytest.fixture(scope="session")
def course_extracted(course_iso: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course image extracted by bsdtar (libarchive), an extractor we did not write."""
    if shutil.which("bsdtar") is None:
        pytest.skip("bsdtar not installed")
    out = tmp_path_factory.mktemp("extracted")
    subprocess.run(["bsdtar", "-xf", str(course_iso), "-C", str(out)], check=True)
    return out


@pytest.fixture(scope="session")
def base_medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean STD-GEN-CD folder medium: 2 CT slices and the 7 RT objects, no manifest.

    The example media (tests/media) start from a copy of it. Do not modify.
    """
    export = tmp_path_factory.mktemp("base-export")
    write_course(export, 5, n_slices=2)
    out = tmp_path_factory.mktemp("base") / "medium"
    result = build_medium([export], out, load_profile("STD-GEN-CD"), fmt="dir", volume_id="BASE")
    assert result.output is not None
    (out / MANIFEST_NAME).unlink()
    return out
