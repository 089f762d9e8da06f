"""Files cut short at every structural boundary: check, ls and import on each, as the corpus does.

A disc damaged in transit, a copy interrupted, a download cut: the file ends
early, most likely exactly where a write stopped, at an element boundary. An
instance (a CT image, an RT plan with nested sequences) and the DICOMDIR are
cut at the start of every element header, length field and value
(:func:`tests.elements.boundaries`, our own walker, not mediakit's), and each
medium goes through ``check``, ``ls`` and ``import`` in one subprocess under
the corpus's memory limit (tests/media/_drive.py).

With the SHA-256 manifest a built medium carries, every cut is found and
named (V306) and the cut instance is not imported. Without one, a DICOMDIR
cut anywhere is still found (D102: its sequence never ends), and so is an
instance cut inside a header, a value or a sequence (P109); only a cut exactly
before a top-level element leaves a shorter dataset that is valid (PS3.10
records no length), and there the commands must merely behave.

The normal suite cuts at the start of every element header (the RT plan's, at
every third); a dedicated run (``MEDIAKIT_FUZZ_EXAMPLES`` set, README "Tests")
cuts at every boundary: headers, length fields and values.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures.rtcourse import write_course
from mediakit.build import build_medium
from mediakit.manifest import MANIFEST_NAME
from mediakit.profiles import load_profile
from tests.elements import boundaries, top_level_starts
from tests.importer.storecheck import assert_store_consistent
from tests.test_media_corpus import CASES, SECONDS, _limit_memory, _tree

TARGETS = {  # what to cut -> its File ID on the medium built below
    "image": "PT000000/ST000000/SE000000/IM000000",
    "plan": "PT000000/ST000000/SE000001/IM000000",
    "dicomdir": "DICOMDIR",
}
EVERY = bool(os.environ.get("MEDIAKIT_FUZZ_EXAMPLES"))  # a dedicated run: every boundary


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder medium with one CT image and one RT plan, and its SHA256.TXT."""
    export = tmp_path_factory.mktemp("cut-export")
    files = write_course(export, 9, n_slices=1)
    chosen = [p for p in files if p.name in ("CT.1.dcm", "RP.photon.dcm")]
    out = tmp_path_factory.mktemp("cut-base") / "medium"
    result = build_medium(chosen, out, load_profile("STD-GEN-CD"), fmt="dir", volume_id="CUT")
    assert result.output is not None
    for name, fid in TARGETS.items():
        assert (out / fid).is_file(), name
    return out


def _run_all(triples: list[list[str]]) -> list[dict[str, Any]]:
    listing = Path(triples[0][0]).parent.parent / "media.json"
    listing.write_text(json.dumps(triples))
    run = subprocess.run(
        [sys.executable, str(CASES / "_drive.py"), "--many", str(listing)],
        capture_output=True,
        text=True,
        preexec_fn=_limit_memory,
        timeout=len(triples) * SECONDS,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    outcomes: list[dict[str, Any]] = json.loads(run.stdout)
    return outcomes


def _cuts(data: bytes, target: str) -> list[int]:
    cuts = boundaries(data, starts_only=not EVERY)
    return cuts if EVERY or target != "plan" else cuts[::3]


def _cut_media(small: Path, root: Path, target: str, *, manifest: bool) -> list[tuple[int, Path]]:
    fid = TARGETS[target]
    data = (small / fid).read_bytes()
    made = []
    for cut in _cuts(data, target):
        medium = root / f"cut{cut:06d}" / "medium"
        shutil.copytree(small, medium)
        if not manifest:
            (medium / MANIFEST_NAME).unlink()
        (medium / fid).write_bytes(data[:cut])
        made.append((cut, medium))
    return made


def _behaves(outcome: dict[str, Any], where: str) -> None:
    for command, done in outcome.items():
        brief = {k: v for k, v in done.items() if k != "output"}
        assert done["exit"] in (0, 1, 2), (where, command, brief, done["output"][-1500:])
        assert not done["traceback"] and done["seconds"] < SECONDS, (where, command, brief)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_cut_at_every_boundary_with_a_manifest(small: Path, tmp_path: Path, target: str) -> None:
    fid = TARGETS[target]
    media = _cut_media(small, tmp_path, target, manifest=True)
    before = {m: _tree(m, m / "nowhere") for _, m in media}
    triples = [[str(m), str(m.parent / "store"), "STD-GEN-CD"] for _, m in media]
    outcomes = _run_all(triples)
    assert len(outcomes) == len(media) > 20
    for (cut, medium), outcome in zip(media, outcomes, strict=True):
        where = f"{fid} cut at {cut}"
        _behaves(outcome, where)
        check = json.loads(outcome["check"]["output"])
        assert outcome["check"]["exit"] == 1, where
        named = {f["path"] for f in check["findings"] if f["code"] == "V306"}
        assert named == {fid}, (where, named)  # exactly the cut file, nothing else
        done = json.loads(outcome["import"]["output"]) if outcome["import"]["exit"] != 2 else None
        if done is not None:
            assert_store_consistent(medium.parent / "store")
            if target != "dicomdir":
                mine = [i for i in done["instances"] if i["file_id"] == fid]
                assert mine and all(i["outcome"] != "imported" for i in mine), (where, mine)
                assert outcome["import"]["exit"] == 1, where
        assert _tree(medium, medium / "nowhere") == before[medium], where
        assert {p.name for p in medium.parent.iterdir()} <= {"medium", "store"}, where


@pytest.mark.parametrize("target", sorted(TARGETS) if EVERY else ["dicomdir", "image"])
def test_cut_at_every_boundary_without_a_manifest(small: Path, tmp_path: Path, target: str) -> None:
    fid = TARGETS[target]
    media = _cut_media(small, tmp_path, target, manifest=False)
    valid_shorter = set() if target == "dicomdir" else top_level_starts((small / fid).read_bytes())
    outcomes = _run_all([[str(m), str(m.parent / "store"), "STD-GEN-CD"] for _, m in media])
    for (cut, medium), outcome in zip(media, outcomes, strict=True):
        where = f"{fid} cut at {cut}"
        _behaves(outcome, where)
        check = json.loads(outcome["check"]["output"])
        codes = {f["code"] for f in check["findings"] if f["severity"] == "error"}
        if cut not in valid_shorter:
            assert outcome["check"]["exit"] == 1, (where, codes)
        if target == "dicomdir":
            assert "D102" in codes, where
        elif cut not in valid_shorter and cut >= 132:
            assert codes & {"P103", "P106", "P108", "P109"}, (where, codes)
        if outcome["import"]["exit"] != 2:
            assert_store_consistent(medium.parent / "store")
