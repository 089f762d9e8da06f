"""Counts shown to people: one helper, so no summary or page says "1 instances"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixtures.rtcourse import write_course
from mediakit.build import build_medium
from mediakit.findings import finding, plural
from mediakit.profiles import load_profile
from mediakit.render import summary_line

PACKAGE = Path(__file__).resolve().parents[1] / "mediakit"


@pytest.mark.parametrize(
    ("count", "noun", "shown"),
    [
        (1, "instance", "1 instance"),
        (0, "instance", "0 instances"),
        (2, "file", "2 files"),
        (1, "study", "1 study"),
        (3, "study", "3 studies"),
        (1, "series", "1 series"),
        (4, "series", "4 series"),
        (None, "beam", "? beams"),
    ],
)
def test_plural(count: int | None, noun: str, shown: str) -> None:
    assert plural(count, noun) == shown


def test_summary_line_in_the_singular() -> None:
    found = [finding("P108", "x", "SOPInstanceUID missing"), finding("F207", "y")]
    line = summary_line("STD-GEN-CD", found, 1, strict=False, noun="instance")
    assert line == "STD-GEN-CD: 1 error, 1 warning in 1 instance (FAILED)"
    assert summary_line("STD-GEN-CD", [], 1, strict=False) == (
        "STD-GEN-CD: 0 errors, 0 warnings in 1 file (OK)"
    )


def test_no_count_is_followed_by_a_hard_coded_plural() -> None:
    """A number put before "instances", "files", ... in an f-string: use plural() instead."""
    pattern = re.compile(r"\{[^{}]+\} (instances|files|studies|patients|conflicts)\b")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "rt.py" or path.parent.name != "check"  # its owner is another change
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_the_pdi_pages_of_one_instance_say_one(tmp_path: Path) -> None:
    export = tmp_path / "export"
    write_course(export, 7, n_slices=1)
    out = tmp_path / "usb"
    result = build_medium([export / "CT.1.dcm"], out, load_profile("STD-GEN-CD"), fmt="dir")
    assert result.output == out
    readme = (out / "README.TXT").read_text("ascii")
    assert "It holds 1 DICOM instance: 1 patient, 1 study, 1 series." in readme, readme
    index = " ".join((out / "INDEX.HTM").read_text("utf-8").split())
    assert "holds 1 DICOM instance of 1 patient in 1 study (1 series)" in index, index
