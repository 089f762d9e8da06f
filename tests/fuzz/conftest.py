"""Fuzzing settings and the media the fuzzers mutate.

The normal suite runs a small, derandomized profile (the same examples on
every run, a few seconds in all). A dedicated run sets
``MEDIAKIT_FUZZ_EXAMPLES`` (README, "Tests"): every fuzz test then draws that
many random examples, and hypothesis keeps failures in ``.hypothesis/`` to
replay them.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import pydicom
import pytest
from hypothesis import HealthCheck, settings

from fixtures.rtcourse import write_course
from mediakit.build import build_medium
from mediakit.manifest import MANIFEST_NAME
from mediakit.profiles import load_profile

EXAMPLES = int(os.environ.get("MEDIAKIT_FUZZ_EXAMPLES", "0") or 0)
F = TypeVar("F", bound=Callable[..., Any])


def fuzz_settings(default: int, *, deadline: float) -> Callable[[F], F]:
    """``default`` examples in the normal suite, ``MEDIAKIT_FUZZ_EXAMPLES`` in a dedicated run.

    ``deadline`` (seconds) fails an example that is slow; :func:`hang_guard`
    stops one that never returns.
    """
    return settings(  # type: ignore[return-value]
        max_examples=EXAMPLES or default,
        deadline=timedelta(seconds=deadline),
        derandomize=not EXAMPLES,
        database=settings.default.database if EXAMPLES else None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


class Hang(Exception):
    """An example ran far past its deadline: a loop that does not end."""


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    """Interrupt the code under test after ``seconds`` (SIGALRM): a hang fails, never blocks CI."""

    def alarm(_sig: int, _frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def scratch_root() -> Path:
    """Where stores made per example go: RAM when there is a tmpfs (fsync is free there)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="mediakit-fuzz-", dir=shm))
    return Path(tempfile.mkdtemp(prefix="mediakit-fuzz-"))


@pytest.fixture(scope="session")
def fuzz_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-patient course export: 2 CT slices and the 7 RT objects."""
    out = tmp_path_factory.mktemp("fuzz-course") / "export"
    write_course(out, 5, n_slices=2)
    return out


@pytest.fixture(scope="session")
def fuzz_folder(fuzz_course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean STD-GEN-CD folder medium built from the course (no manifest), and beside it
    ``OUTSIDE/EVIL``: a valid instance of its own that a File ID climbing out would import."""
    root = tmp_path_factory.mktemp("fuzz-folder")
    medium = root / "medium"
    result = build_medium([fuzz_course], medium, load_profile("STD-GEN-CD"), fmt="dir")
    assert result.output is not None
    (medium / MANIFEST_NAME).unlink()
    (root / "OUTSIDE").mkdir()
    ct = next(fuzz_course.glob("CT.*"))
    ds = pydicom.dcmread(ct)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = EVIL_UID
    ds.save_as(root / "OUTSIDE" / "EVIL")
    return medium


EVIL_UID = "2.25.666"


@pytest.fixture(scope="session")
def fuzz_iso(fuzz_course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course as ``mediakit build`` writes a CD image (with its SHA256.TXT)."""
    out = tmp_path_factory.mktemp("fuzz-iso") / "course.iso"
    result = build_medium([fuzz_course], out, load_profile("STD-GEN-CD"), volume_id="FUZZ")
    assert result.output == out
    return out


@pytest.fixture(scope="session")
def scratch() -> Iterator[Path]:
    """A folder for per-example stores, removed at the end."""
    root = scratch_root()
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
