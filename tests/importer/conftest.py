"""Media for the import tests, built by code (fixtures/rtcourse.py, mediakit build), and helpers.

The 200-instance RT medium is 8 patients x (18 CT slices + structure set, photon
and proton plan, dose, treatment record, registration, RT image), 8x8 pixels,
built once per session as an ISO image with ``mediakit.build.build_medium``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.rtcourse import write_course
from mediakit.build import build_medium
from mediakit.profiles import load_profile

RT200 = {"patients": 8, "n_slices": 18, "matrix": 8}  # 8 x (18 + 7) = 200 instances


@pytest.fixture(scope="session")
def rt200_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 200 files a planning system would export (Part 10, Explicit VR LE)."""
    out = tmp_path_factory.mktemp("rt200") / "export"
    assert len(write_course(out, seed=11, **RT200)) == 200
    return out


@pytest.fixture(scope="session")
def rt200_iso(rt200_source: Path) -> Path:
    """A conformant STD-GEN-CD image of the 200 instances (read back and verified by build)."""
    out = rt200_source.parent / "rt200.iso"
    result = build_medium([rt200_source], out, load_profile("STD-GEN-CD"))
    assert result.output == out and result.instances == 200
    return out


@pytest.fixture
def small_course(tmp_path: Path) -> Path:
    """A one-patient course folder (2 CT slices + 7 RT objects = 9 files), no DICOMDIR."""
    out = tmp_path / "course"
    write_course(out, seed=5, n_slices=2)
    return out
