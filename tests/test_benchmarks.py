"""The benchmark script still runs end to end (a tiny tier; no timing is asserted).

``python -m benchmarks.run`` is documented in the README; this keeps it from
rotting: every comparison runs on a few dozen instances and a few megabytes of
"DVD", and the results file must hold the machine, the date and every row.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.run import TOOLS

ROOT = Path(__file__).resolve().parents[1]
ROWS = (
    "→ ISO vs copy + dcmmkdir + genisoimage",
    "vs pydicom FileSet add + write",
    "ISO stage vs cat of the same bytes",
    "check + verify vs sha256sum of the image",
    "import --to vs bsdtar -x of the image",
    "peak RSS, DVD build",
    "per-instance build cost",
)


@pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason=f"the benchmark compares with {', '.join(TOOLS)}; one is not installed",
)
def test_tiny_run_writes_every_row(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--tiers", "16,40", "--dvd-gb", "0.002,0.006",
         "--work", str(tmp_path / "work"), "--out", str(out), "--profile-lines", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    text = out.read_text()
    assert "- date: " in text and "- machine: " in text and "CPUs" in text
    table = [line for line in text.splitlines() if line.startswith("| ") and "×" in line]
    for row in ROWS:
        assert any(row in line for line in table), (row, text)
        assert any(row in line for line in run.stdout.splitlines()), (row, run.stdout)
    assert "n/a" not in "".join(table), text  # two tiers and a DVD: every ratio measured
    if "## Targets missed" in text:  # a miss comes with the profile of what bounds it
        assert "under cProfile" in text
    assert not (tmp_path / "work" / "dvd").exists()  # the large data are removed afterwards
