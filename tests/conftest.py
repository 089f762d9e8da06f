"""Shared fixtures: pydicom's bundled RT files and the vendor media in ../shared."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

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
