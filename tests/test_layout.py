"""dicomdir.layout: File IDs, record tree, record types by SOP Class, key filling."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediakit.dicomdir.layout import Placed, all_keywords, lay_out
from mediakit.dicomdir.model import walk_all
from mediakit.findings import Severity
from mediakit.part10 import EXPLICIT_VR_LE, read_header
from mediakit.profiles import load_profile
from tests.conftest import needs, pydicom_file

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


# --- Modality the SOP Class implies (profiles/modalities.toml) ------------------------------


def _without_modality(src: Path, dst: Path, sop_class: str | None = None) -> None:
    import pydicom

    dst.mkdir()
    for p in sorted(src.iterdir()):
        ds = pydicom.dcmread(p)
        del ds.Modality
        if sop_class is not None:
            ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
        ds.save_as(dst / p.name, enforce_file_format=True)


@needs("dcmdump")
def test_a_missing_modality_is_the_one_the_sop_class_implies(tmp_path: Path) -> None:
    import subprocess

    from fixtures.rtcourse import _MODALITY, SOP_CLASSES, write_course
    from mediakit.build import build_medium

    write_course(tmp_path / "export", 7, n_slices=2)
    _without_modality(tmp_path / "export", tmp_path / "bare")
    out = tmp_path / "medium"
    result = build_medium([tmp_path / "bare"], out, CD, fmt="dir")
    assert result.output == out
    fills = [f.message for f in result.findings if f.code == "D122" and "Modality" in f.message]
    assert len(fills) == len(SOP_CLASSES) and all("implied by the SOP Class" in m for m in fills)
    assert all(f.severity is Severity.WARNING for f in result.findings)
    # DCMTK reads the DICOMDIR: every SERIES record's Modality, in record order
    dump = subprocess.run(
        ["dcmdump", str(out / "DICOMDIR")], capture_output=True, text=True, check=True
    ).stdout
    wanted = ("(0004,1430)", "(0008,0060)")  # record type, then (if any) its Modality
    lines = [line for line in dump.splitlines() if line.strip().startswith(wanted)]
    values = [line.split("[")[1].split("]")[0] for line in lines]
    series = [values[i + 1] for i, v in enumerate(values) if v == "SERIES"]
    assert "UNKNOWN" not in series
    assert sorted(series) == sorted(_MODALITY[kind] for kind in SOP_CLASSES)


def test_a_class_that_implies_no_modality_gets_the_placeholder(tmp_path: Path) -> None:
    from fixtures.rtcourse import write_course

    write_course(tmp_path / "export", 7, n_slices=1)
    secondary_capture = "1.2.840.10008.5.1.4.1.1.7"  # SC: any modality (C.8.6.1)
    (tmp_path / "sc").mkdir()
    _without_modality(tmp_path / "export", tmp_path / "sc" / "in", secondary_capture)
    kws = all_keywords(CD)
    files = sorted((tmp_path / "sc" / "in").iterdir())
    layout = lay_out(
        [Placed(read_header(p, keywords=kws), EXPLICIT_VR_LE, p.name) for p in files], CD
    )
    fills = [f.message for f in layout.findings if f.code == "D122" and "Modality" in f.message]
    assert fills and all(m.endswith("missing, invented: 'UNKNOWN'") for m in fills), fills
