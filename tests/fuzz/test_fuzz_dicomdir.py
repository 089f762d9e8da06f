"""Fuzz the DICOMDIR reader: mutated valid DICOMDIRs never crash, hang or lead off the medium.

Seeds: our encoder's output, the DICOMDIR of a built medium, and pydicom's
test DICOMDIRs (Explicit and Implicit VR, big endian, reordered, without
offsets), so framing in every syntax is reached.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from mediakit.dicomdir.model import walk_all
from mediakit.dicomdir.parse import parse_dicomdir
from mediakit.media import FolderMedium, Resolver
from tests.conftest import pydicom_file
from tests.fuzz.conftest import fuzz_settings, hang_guard
from tests.fuzz.mutate import Seed, apply, mutations, seed
from tests.test_dicomdir_encode import encoded

PYDICOM_SEEDS = {  # name -> (implicit VR, little endian)
    "DICOMDIR": (False, True),
    "DICOMDIR-implicit": (True, True),
    "DICOMDIR-bigEnd": (False, False),
    "DICOMDIR-reordered": (False, True),
    "DICOMDIR-nooffset": (False, True),
}


@pytest.fixture(scope="module")
def seeds(fuzz_folder: Path) -> list[Seed]:
    out = [
        seed("encoder", encoded()),
        seed("built medium", (fuzz_folder / "DICOMDIR").read_bytes()),
    ]
    for name, (implicit, little) in PYDICOM_SEEDS.items():
        out.append(seed(name, pydicom_file(name).read_bytes(), implicit=implicit, little=little))
    return out


def plain(file_id: tuple[str, ...]) -> bool:
    """A relative path of plain names by Python's own path rules (not mediakit's)."""
    if not file_id:
        return False
    for c in file_id:
        if c in ("", ".", "..") or "\0" in c:
            return False
        windows = PureWindowsPath(c)
        if PurePosixPath(c).parts != (c,) or windows.parts != (c,) or windows.anchor:
            return False  # a separator, a root, a drive or a UNC share inside the component
    return True


def read_every_key(ds: Dataset) -> None:
    stack = [ds]
    while stack:
        for elem in stack.pop():
            if elem.VR == "SQ":
                stack.extend(elem.value)
            str(elem.value)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom on mutated values: expected
@given(data=st.data())
@fuzz_settings(300, deadline=5)
def test_mutated_dicomdir_parses_to_a_tree_of_safe_records(
    data: st.DataObject, seeds: list[Seed], fuzz_folder: Path
) -> None:
    s = data.draw(st.sampled_from(seeds), label="seed")
    ops = data.draw(mutations(s), label="ops")
    mutated = apply(s.data, ops)
    with hang_guard(30):
        parsed = parse_dicomdir(mutated)  # InternalError (a parser bug) fails the example
        seen: set[int] = set()
        for _, rec in walk_all(parsed.roots):  # a tree: every record once, none unreachable
            assert id(rec) not in seen, "record twice in the tree"
            seen.add(id(rec))
            assert id(rec) in parsed.reachable
        medium = FolderMedium(fuzz_folder, str(fuzz_folder))
        resolver = Resolver(medium)
        for rec in parsed.records:
            read_every_key(rec.keys)  # pydicom never raises on what the parser kept
            if rec.file_id is None:
                continue
            res = resolver.resolve(rec.file_id)
            if not plain(rec.file_id):
                assert res.unsafe is not None, rec.file_id
            if res.file is not None:
                assert isinstance(res.file.handle, Path)
                assert res.file.handle.resolve().is_relative_to(fuzz_folder.resolve())
    assert {f.code[0] for f in parsed.findings} <= {"D"}
    for code in sorted({f.code for f in parsed.findings}):
        event(code)  # which damage the mutations reach (--hypothesis-show-statistics)
    event("records kept" if parsed.records else "no records")


@pytest.mark.parametrize(
    "file_id",
    [
        ("..", "OUTSIDE", "EVIL"),
        ("", "ETC", "PASSWD"),
        ("", "", "SERVER", "SHARE"),
        ("C:", "WINDOWS"),
        ("C:EVIL",),
        ("IM\0..", "EVIL"),
        ("PT000000", ".", "IM000000"),
        ("PT000000", "", "IM000000"),
    ],
)
def test_the_oracle_calls_these_unsafe_and_so_does_the_resolver(
    file_id: tuple[str, ...], fuzz_folder: Path
) -> None:
    """The fuzz property can fail: each of these is unsafe by both judgements."""
    assert not plain(file_id)
    assert Resolver(FolderMedium(fuzz_folder, "m")).resolve(file_id).unsafe is not None
