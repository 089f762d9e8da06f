"""dicomdir.layout: File IDs, record tree, record types by SOP Class, key filling."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediakit.dicomdir.layout import Placed, all_keywords, lay_out
from mediakit.dicomdir.model import walk_all
from mediakit.findings import Severity
from mediakit.part10 import EXPLICIT_VR_LE, read_header
from mediakit.profiles import load_profile
from tests.conftest import pydicom_file

CD = load_profile("STD-GEN-CD")
NAMES = ("rtplan.dcm", "rtdose.dcm", "rtstruct.dcm", "CT_small.dcm")


def placed(*names: str) -> list[Placed]:
    kws = all_keywords(CD)
    return [Placed(read_header(pydicom_file(n), keywords=kws), EXPLICIT_VR_LE, n) for n in names]


def test_file_ids_are_level1_and_unique() -> None:
    layout = lay_out(placed(*NAMES), CD)
    ids = [fid for fid in layout.file_ids if fid]
    assert len(ids) == len(set(ids)) == len(NAMES)
    for fid in ids:
        assert len(fid) == 4
        assert all(len(c) <= 8 and c.isalnum() and c.isupper() for c in fid)


def test_record_types_follow_the_sop_class_table() -> None:
    layout = lay_out(placed(*NAMES), CD)
    leaves = {
        r.sop_instance_uid: r.record_type for _, r in walk_all(list(layout.roots)) if r.file_id
    }
    by_name = {n: p.header.sop_instance_uid for n, p in zip(NAMES, placed(*NAMES), strict=True)}
    assert leaves[by_name["rtplan.dcm"]] == "RT PLAN"
    assert leaves[by_name["rtdose.dcm"]] == "RT DOSE"
    assert leaves[by_name["rtstruct.dcm"]] == "RT STRUCTURE SET"
    assert leaves[by_name["CT_small.dcm"]] == "IMAGE"


def test_hierarchy_is_patient_study_series_leaf() -> None:
    layout = lay_out(placed(*NAMES), CD)
    for depth, rec in walk_all(list(layout.roots)):
        expected = ["PATIENT", "STUDY", "SERIES"][depth] if depth < 3 else None
        if expected:
            assert rec.record_type == expected
        else:
            assert depth == 3 and rec.file_id is not None and not rec.children


def test_missing_instance_number_is_invented_and_reported() -> None:
    layout = lay_out(placed("rtplan.dcm"), CD)
    fills = [f for f in layout.findings if f.code == "D122"]
    assert any("InstanceNumber" in f.message for f in fills)
    assert all(f.severity is Severity.WARNING for f in fills)
    leaf = next(r for _, r in walk_all(list(layout.roots)) if r.file_id)
    assert str(leaf.keys.InstanceNumber) == "1"


def test_no_fix_makes_fills_errors() -> None:
    layout = lay_out(placed("rtplan.dcm"), CD, fix=False)
    assert any(f.code == "D122" and f.severity is Severity.ERROR for f in layout.findings)


def test_layout_is_deterministic() -> None:
    a = lay_out(placed(*NAMES), CD)
    b = lay_out(placed(*reversed(NAMES)), CD)
    fa = {p.header.sop_instance_uid: f for p, f in zip(placed(*NAMES), a.file_ids, strict=True)}
    fb = {
        p.header.sop_instance_uid: f
        for p, f in zip(placed(*reversed(NAMES)), b.file_ids, strict=True)
    }
    assert fa == fb


def test_unknown_sop_class_is_d121(tmp_path: Path) -> None:
    p = placed("CT_small.dcm")[0]
    odd = Placed(
        type(p.header)(
            **{**{s: getattr(p.header, s) for s in p.header.__slots__}, "sop_class_uid": "1.2.3.4"}
        ),
        EXPLICIT_VR_LE,
        "odd",
    )
    layout = lay_out([odd], CD)
    assert [f.code for f in layout.findings] == ["D121"] and layout.file_ids == (None,)


@pytest.mark.parametrize("profile_id", ["STD-GEN-USB-JPEG", "STD-GEN-DVD-J2K"])
def test_h32_profiles_add_rows_and_columns(profile_id: str) -> None:
    prof = load_profile(profile_id)
    kws = all_keywords(prof)
    ct = Placed(read_header(pydicom_file("CT_small.dcm"), keywords=kws), EXPLICIT_VR_LE, "ct")
    layout = lay_out([ct], prof)
    leaf = next(r for _, r in walk_all(list(layout.roots)) if r.file_id)
    assert leaf.keys.Rows == 128 and leaf.keys.Columns == 128
