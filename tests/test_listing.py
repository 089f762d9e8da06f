"""``ls`` lists every instance, however it was found: offsets, record order, or scanning."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pydicom
import pytest
from click.testing import CliRunner

from mediakit.check.runner import check_medium
from mediakit.cli import main
from mediakit.profiles import load_profile
from tests.media import _lib
from tests.test_media_corpus import CASES, _load

CD = load_profile("STD-GEN-CD")
NINE = 9  # instances of the base medium: 2 CT slices and 7 RT objects


def _ls(medium: Path) -> tuple[dict[str, Any], list[str]]:
    runner = CliRunner()
    doc = json.loads(runner.invoke(main, ["ls", str(medium), "--json"]).stdout)
    return doc, runner.invoke(main, ["ls", str(medium)]).stdout.splitlines()


def _leaves(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        i
        for p in doc["patients"]
        for s in p["studies"]
        for se in s["series"]
        for i in se["instances"]
    ]


def _case(base: Path, tmp_path: Path, case: str) -> Path:
    medium = tmp_path / "medium"
    shutil.copytree(base, medium)
    return _load(CASES / "negative" / case)(medium)


@pytest.mark.parametrize(
    ("case", "by_sequence"),
    [
        ("d104_next_nowhere", 7),  # the first SERIES's next offset is broken: 7 series cut off
        ("d104_next_ffffffff", 7),
        ("d105_lower_nowhere", 1),  # one SERIES's lower-level offset: its instance cut off
        ("d123_no_offsets", NINE),  # no offsets at all: the whole tree from record order
    ],
)
def test_instances_the_offsets_do_not_reach_are_placed_by_record_order(
    case: str, by_sequence: int, base_medium: Path, tmp_path: Path
) -> None:
    medium = _case(base_medium, tmp_path, case)
    doc, text = _ls(medium)
    leaves = _leaves(doc)
    assert len(leaves) == NINE and all(i["present"] for i in leaves)
    assert doc["found_by"] == {"offsets": NINE - by_sequence, "sequence": by_sequence, "scan": 0}
    assert Counter(i["found_by"] for i in leaves)["sequence"] == by_sequence
    assert {i["placement"] for i in leaves} == {"tree"}
    [study] = doc["patients"][0]["studies"]  # cut-off series are still under their study
    assert [se["series_number"] for se in study["series"]] == [str(n) for n in range(1, 9)]
    assert f"note: {by_sequence} instance" in "\n".join(text)
    codes = Counter(f.code for f in check_medium(medium, CD).findings)
    # D126 when a chain is cut; D123 (not D126) when there was no chain to follow
    assert (codes["D126"], codes["D123"]) == ((0, 1) if by_sequence == NINE else (1, 0))


def test_an_inactive_record_off_the_chain_is_not_listed(base_medium: Path, tmp_path: Path) -> None:
    """A record a writer removed (In-use 0000H, unlinked) is not an instance of the medium."""
    medium = _case(base_medium, tmp_path, "d104_next_ffffffff")
    path = medium / "DICOMDIR"
    for rec in _lib.parsed(medium).records:
        if rec.record_type == "RT DOSE":
            assert rec.offset is not None
            _lib.patch(path, rec.offset + 28, b"\x00\x00")  # (0004,1410) after the 8+12 bytes
    doc, _ = _ls(medium)
    assert len(_leaves(doc)) == NINE - 1
    [cut] = [f for f in check_medium(medium, CD).findings if f.code == "D126"]
    assert "6 instances" in cut.message  # of the 7 cut off, the inactive one is not counted


def _copy_as_new_instance(source: Path, target: Path, **changes: str) -> pydicom.Dataset:
    ds = pydicom.dcmread(source)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    target.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(target)
    return ds


def test_files_not_in_the_dicomdir_are_listed_where_their_uids_say(
    base_medium: Path, tmp_path: Path
) -> None:
    medium = tmp_path / "medium"
    shutil.copytree(base_medium, medium)
    ct = medium / "PT000000" / "ST000000" / "SE000000" / "IM000000"
    _copy_as_new_instance(ct, medium / "EXTRA" / "SLICE3", InstanceNumber="3")
    other = _copy_as_new_instance(
        ct, medium / "EXTRA" / "OTHER", SeriesInstanceUID=pydicom.uid.generate_uid()
    )
    other.SeriesNumber = 10
    other.save_as(medium / "EXTRA" / "OTHER")
    doc, text = _ls(medium)
    assert doc["found_by"] == {"offsets": NINE, "sequence": 0, "scan": 2}
    [study] = doc["patients"][0]["studies"]  # both under the DICOMDIR's patient and study
    ct_series = study["series"][0]
    assert [i["found_by"] for i in ct_series["instances"]] == ["offsets", "offsets", "scan"]
    scanned = ct_series["instances"][2]
    assert (scanned["placement"], scanned["record_type"]) == ("uids", "IMAGE")
    assert scanned["file_id"] == "EXTRA/SLICE3"
    # a series the DICOMDIR does not have: its own, ordered by Series Number (10 after 8)
    assert [se["series_number"] for se in study["series"]][-2:] == ["8", "10"]
    assert "note: 2 instances found by scanning" in "\n".join(text)


def test_a_medium_without_dicomdir_lists_record_types_and_numeric_order(
    base_medium: Path, tmp_path: Path
) -> None:
    """Scanned files get the record type of their SOP Class; Series and Instance Numbers
    order the tree as numbers (2 before 10), not as strings."""
    medium = tmp_path / "medium"
    shutil.copytree(base_medium, medium)
    (medium / "DICOMDIR").unlink()
    ct = medium / "PT000000" / "ST000000" / "SE000000"
    for n, number in ((0, "10"), (1, "9")):
        ds = pydicom.dcmread(ct / f"IM{n:06d}")
        ds.InstanceNumber = number
        ds.save_as(ct / f"IM{n:06d}")
    for folder, number in (("SE000001", 20), ("SE000002", 3)):
        path = medium / "PT000000" / "ST000000" / folder / "IM000000"
        ds = pydicom.dcmread(path)
        ds.SeriesNumber = number
        ds.save_as(path)
    doc, text = _ls(medium)
    assert doc["source"] == "scan" and doc["found_by"]["scan"] == NINE
    leaves = _leaves(doc)
    assert {i["placement"] for i in leaves} == {"uids"}
    assert Counter(i["record_type"] for i in leaves) == Counter(
        {"IMAGE": 3, "RT PLAN": 2, "RT STRUCTURE SET": 1, "RT DOSE": 1, "RT TREAT RECORD": 1,
         "REGISTRATION": 1}
    )  # fmt: skip
    series = doc["patients"][0]["studies"][0]["series"]
    numbers = [int(se["series_number"]) for se in series]
    assert numbers == sorted(numbers) and 20 in numbers and 3 in numbers
    assert [i["instance_number"] for i in series[0]["instances"]] == ["9", "10"]
    assert "note: no usable DICOMDIR: 9 instances found by scanning" in "\n".join(text)


def test_a_clean_medium_is_found_by_offsets(base_medium: Path) -> None:
    doc, text = _ls(base_medium)
    assert doc["found_by"] == {"offsets": NINE, "sequence": 0, "scan": 0}
    assert not any(line.startswith("note:") for line in text)


def test_ls_json_is_the_document_one_instance_a_line(base_medium: Path, tmp_path: Path) -> None:
    from mediakit.check.snapshot import take_snapshot
    from mediakit.media import open_medium
    from mediakit.render import ls_doc, ls_json

    medium = _case(base_medium, tmp_path, "d104_next_nowhere")
    with open_medium(medium) as opened:
        doc = ls_doc(take_snapshot(opened))
    text = ls_json(doc)
    assert json.loads(text) == doc
    lines = text.splitlines()
    assert sum('"sop_instance_uid"' in line for line in lines) == NINE
    assert all(line.count('"sop_instance_uid"') <= 1 for line in lines)
    empty = {**doc, "patients": []}
    assert json.loads(ls_json(empty)) == empty
