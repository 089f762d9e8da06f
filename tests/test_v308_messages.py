"""V308 names what is damaged and why (issue 8): never a bare exception type."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli

CASES = {
    "v308_directories_cut": ("directory records", "cut short"),
    "v308_directory_loop": ("directory records", "form a loop"),
    "v308_directory_not_in_path_table": ("path table", "no directory of the path table"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_v308_says_which_part_is_damaged_and_why(
    case: str, base_medium: Path, tmp_path: Path
) -> None:
    medium = tmp_path / "medium"
    shutil.copytree(base_medium, medium)
    image = importlib.import_module(f"tests.media.negative.{case}.make").make(medium)
    check = run_cli("check", image, "--json")
    (v308,) = [f for f in json.loads(check.stdout)["findings"] if f["code"] == "V308"]
    part, why = CASES[case]
    assert part in v308["message"] and why in v308["message"], v308["message"]
    assert str(image) not in v308["message"], "the path is the finding's, not repeated"
    assert "(KeyError)" not in v308["message"]
    ls = run_cli("ls", image)
    assert ls.returncode == 1 and str(image) in ls.stderr and why in ls.stderr
