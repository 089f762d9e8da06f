"""fixtures.rtcourse is deterministic: the same seed gives byte-identical files, every run."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.rtcourse import write_course

ROOT = Path(__file__).resolve().parents[1]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("seed", "quirks", "patients"),
    [(7, (), 1), (11, ("implicit", "no_instance_number"), 2), (3, ("no_meta",), 1)],
)
def test_two_runs_with_one_seed_write_the_same_bytes(
    tmp_path: Path, seed: int, quirks: tuple[str, ...], patients: int
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_course(first, seed, n_slices=3, quirks=quirks, patients=patients)
    # the second run in a fresh interpreter: no state of the first can leak into it
    args = [str(second), "--seed", str(seed), "--slices", "3", "--patients", str(patients)]
    for quirk in quirks:
        args += ["--quirk", quirk]
    subprocess.run([sys.executable, "-m", "fixtures.rtcourse", *args], cwd=ROOT, check=True)
    a, b = _digests(first), _digests(second)
    assert len(a) >= 3 + 7 and a == b


def test_another_seed_gives_other_files(tmp_path: Path) -> None:
    write_course(tmp_path / "a", 7, n_slices=1)
    write_course(tmp_path / "b", 8, n_slices=1)
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert set(a) == set(b) and all(a[n] != b[n] for n in a)
