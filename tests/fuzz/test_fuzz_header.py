"""Fuzz one Part 10 header: part10 with its in-memory framer reads it as pydicom alone does.

Each example mutates an instance of the course (its element lengths aimed at,
bytes flipped, put, inserted, deleted, duplicated, the file cut) and reads it
both ways (tests/test_headerframe.py): the same Header, or the same error.
The framer takes only the common case and leaves everything else to pydicom,
so a mutation it misjudges shows here as a difference.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from fixtures.rtcourse import write_course
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.mutate import Seed, apply, mutations, seed
from tests.test_headerframe import both_ways


@pytest.fixture(scope="module")
def header_seeds(fuzz_course: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Seed]:
    """A CT slice, the structure set and the plan of the course, an Implicit VR slice,
    and a slice with an undefined-length sequence (pydicom reads those as it frames)."""
    root = tmp_path_factory.mktemp("fuzz-header")
    seeds = [
        seed(name, (fuzz_course / name).read_bytes())
        for name in (next(fuzz_course.glob("CT.*")).name, "RS.dcm", "RP.photon.dcm")
    ]
    implicit = next(p for p in write_course(root / "imp", 6, n_slices=1, quirks=["implicit"])
                    if p.name.startswith("CT"))  # fmt: skip
    seeds.append(seed("implicit CT", implicit.read_bytes(), implicit=True))
    ds = pydicom.dcmread(implicit)
    item = Dataset()
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = ds.SOPClassUID, "1.2.3"
    ds.ReferencedImageSequence = Sequence([item])
    ds["ReferencedImageSequence"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    out = root / "sq.dcm"
    pydicom.dcmwrite(out, ds, implicit_vr=False, little_endian=True, enforce_file_format=True)
    seeds.append(seed("CT with undefined-length sequence", out.read_bytes()))
    return seeds


@pytest.mark.filterwarnings("ignore::UserWarning")
@given(data=st.data())
@fuzz_settings(150, deadline=10)
def test_mutated_header_reads_the_same_both_ways(
    data: st.DataObject, header_seeds: list[Seed], tmp_path_factory: pytest.TempPathFactory
) -> None:
    s = data.draw(st.sampled_from(header_seeds), label="seed")
    ops = data.draw(mutations(s), label="ops")
    path = tmp_path_factory.getbasetemp() / "fuzz-header-example.dcm"
    path.write_bytes(apply(s.data, ops))
    fast, slow, used = both_ways(path)
    event("framed in memory" if used else "left to pydicom")
    assert fast == slow
