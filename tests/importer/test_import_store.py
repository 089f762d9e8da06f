"""``mediakit import MEDIA --to STORE``: layout by UIDs, index, dedupe, conflicts, repair, log."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner

from mediakit.cli import main
from mediakit.errors import InputError
from mediakit.importer import Outcome, import_to_store
from mediakit.importer.store import open_store
from tests.importer.storecheck import assert_store_consistent, index_rows, sha256, store_files

ORACLE = pytest.mark.oracle


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mediakit", "import", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_200_instance_medium_twice(rt200_iso: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = _run(str(rt200_iso), "--to", str(store), "--json")
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert doc["summary"]["imported"] == 200
    assert doc["status"] == "pass" and doc["target"] == "store"
    rows = assert_store_consistent(store)
    assert len(rows) == 200 and len(store_files(store)) == 200

    second = _run(str(rt200_iso), "--to", str(store), "--json")
    assert second.returncode == 0, second.stderr
    doc2 = json.loads(second.stdout)
    assert doc2["summary"] == {**doc2["summary"], "imported": 0, "already_present": 200}
    assert len(assert_store_consistent(store)) == 200
    # the index is WAL and records the source medium of every row
    db = sqlite3.connect(store / "index.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    assert {r["source_volume_id"] for r in rows} == {"RT200"}
    assert all(str(r["source_file_id"]).startswith("PT0000") for r in rows)
    assert {r["modality"] for r in rows} >= {"CT", "RTPLAN", "RTDOSE", "RTSTRUCT", "RTRECORD"}


def test_stored_bytes_are_the_medium_bytes(rt200_source: Path, tmp_path: Path) -> None:
    """Conformant files are stored byte for byte: the store's hashes are the exporter's."""
    result = import_to_store(rt200_source, tmp_path / "s")
    assert result.summary()["imported"] == 200
    exported = {sha256(p) for p in rt200_source.rglob("*.dcm")}
    assert {sha256(p) for p in store_files(tmp_path / "s").values()} == exported


@ORACLE
@pytest.mark.skipif(shutil.which("dcmftest") is None, reason="dcmftest not installed")
def test_files_without_file_meta_get_one(tmp_path: Path) -> None:
    """Bare datasets (no preamble, no File Meta) become Part 10 files; the dataset is unchanged."""
    from fixtures.rtcourse import write_course

    export = tmp_path / "export"
    written = write_course(export, seed=3, n_slices=2, quirks=["no_meta", "lowercase_names"])
    result = import_to_store(export, tmp_path / "s")
    assert result.summary()["imported"] == len(written) == 9
    assert {f.code for f in result.all_findings} == {"I504", "I505"}
    files = list(store_files(tmp_path / "s").values())
    run = subprocess.run(["dcmftest", *map(str, files)], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.count("yes:") == 9, run.stdout
    by_uid = {pydicom.dcmread(p, force=True).SOPInstanceUID: p for p in written}
    for stored in files:
        got = pydicom.dcmread(stored)
        assert got.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"  # kept as it came
        original = pydicom.dcmread(by_uid[got.SOPInstanceUID], force=True)
        assert got == original  # File Meta is not part of Dataset equality
    assert all(r["rewritten"] == 1 for r in index_rows(tmp_path / "s"))
    assert_store_consistent(tmp_path / "s")


def test_conflict_is_kept_aside_and_never_overwrites(small_course: Path, tmp_path: Path) -> None:
    store = tmp_path / "s"
    import_to_store(small_course, store)
    before = {rel: sha256(p) for rel, p in store_files(store).items()}
    # the same plan UID with other content (a re-planned beam meterset) on a second medium
    changed = tmp_path / "second"
    shutil.copytree(small_course, changed)
    plan = pydicom.dcmread(changed / "RP.photon.dcm")
    plan.RTPlanLabel = "REPLANNED"
    plan.save_as(changed / "RP.photon.dcm")
    result = import_to_store(changed, store)
    summary = result.summary()
    assert (summary["conflict"], summary["already_present"], summary["imported"]) == (1, 8, 0)
    conflict = next(r for r in result.instances if r.outcome is Outcome.CONFLICT)
    assert conflict.sop_instance_uid == plan.SOPInstanceUID
    assert [f.code for f in conflict.findings] == ["I503"]
    kept = store / str(conflict.path)
    assert kept.is_relative_to(store / "conflicts")
    assert sha256(kept) == sha256(changed / "RP.photon.dcm")
    assert {rel: sha256(p) for rel, p in store_files(store).items()} == before
    assert not result.complete
    # seen again: reported again, but no second copy (and "1 conflict", not "1 conflicts")
    again = import_to_store(changed, store)
    assert again.summary()["conflict"] == 1
    shown = CliRunner().invoke(main, ["import", str(changed), "--to", str(store)])
    assert shown.exit_code == 1
    assert shown.output.splitlines()[-1].endswith(
        "0 imported, 8 already present, 1 conflict, 0 unreadable, 0 refused (FAILED)"
    ), shown.output
    assert len(list((store / "conflicts").rglob("*.dcm"))) == 1
    db = sqlite3.connect(store / "index.sqlite")
    assert db.execute("SELECT count(*) FROM conflicts").fetchone()[0] == 1
    db.close()
    assert_store_consistent(store)


def test_same_instance_in_another_encoding_is_not_a_conflict(tmp_path: Path) -> None:
    """One course exported bare (Implicit VR, no meta) and as Part 10 Explicit VR."""
    from fixtures.rtcourse import write_course

    write_course(tmp_path / "part10", seed=9, n_slices=2)
    write_course(tmp_path / "bare", seed=9, n_slices=2, quirks=["no_meta"])
    store = tmp_path / "s"
    assert import_to_store(tmp_path / "part10", store).summary()["imported"] == 9
    second = import_to_store(tmp_path / "bare", store)
    assert second.summary()["already_present"] == 9 and second.complete


def test_resumable_after_files_are_lost(small_course: Path, tmp_path: Path) -> None:
    """Rows whose file vanished are dropped (I510) and the next import restores the files."""
    store = tmp_path / "s"
    import_to_store(small_course, store)
    victims = sorted(store_files(store).values())[:3]
    for v in victims:
        v.unlink()
    result = import_to_store(small_course, store)
    assert result.summary()["imported"] == 3 and result.summary()["already_present"] == 6
    assert [f.code for f in result.findings].count("I510") == 3
    assert len(assert_store_consistent(store)) == 9


def test_store_refuses_odd_destinations(small_course: Path, tmp_path: Path) -> None:
    busy = tmp_path / "documents"
    busy.mkdir()
    (busy / "letter.txt").write_text("not a store")
    with pytest.raises(InputError, match="not a mediakit store"):
        import_to_store(small_course, busy)
    with pytest.raises(InputError, match="inside the medium"):
        import_to_store(small_course, small_course / "store")
    assert not (small_course / "store").exists()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        import_to_store(small_course, tmp_path / "afile")


def test_second_import_into_a_locked_store_is_refused(small_course: Path, tmp_path: Path) -> None:
    store = tmp_path / "s"
    with open_store(store), pytest.raises(InputError, match="another import"):
        import_to_store(small_course, store)


def test_log_records_every_decision(small_course: Path, tmp_path: Path) -> None:
    store = tmp_path / "s"
    (small_course / "notes.txt").write_text("not DICOM, not referenced: skipped")
    broken = small_course / "BROKEN.dcm"
    broken.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff")  # damaged meta
    import_to_store(small_course, store)
    import_to_store(small_course, store)
    lines = [json.loads(x) for x in (store / "import-log.jsonl").read_text().splitlines()]
    runs = list(dict.fromkeys(x["run"] for x in lines))
    assert len(runs) == 2
    for run, expect in zip(runs, ("imported", "already_present"), strict=True):
        events = [x["event"] for x in lines if x["run"] == run]
        assert events[0] == "run-start" and events[-1] == "run-end"
        assert events.count(expect) == 9 and events.count("unreadable") == 1
    unreadable = next(x for x in lines if x["event"] == "unreadable")
    assert unreadable["file_id"] == "BROKEN.dcm" and unreadable["codes"] == ["I501"]


def test_zip_medium(small_course: Path, tmp_path: Path) -> None:
    archive = shutil.make_archive(str(tmp_path / "course"), "zip", small_course)
    result = import_to_store(Path(archive), tmp_path / "s")
    assert result.kind == "zip" and result.summary()["imported"] == 9


def test_cli_usage_and_exit_codes(small_course: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(
        main, ["import", str(small_course), "--to", "x", "--pacs", "A@h:1"], catch_exceptions=False
    )
    assert both.exit_code == 2
    neither = runner.invoke(main, ["import", str(small_course)], catch_exceptions=False)
    assert neither.exit_code == 2
    aet_alone = runner.invoke(
        main, ["import", str(small_course), "--to", "x", "--calling-aet", "ME"]
    )
    assert aet_alone.exit_code == 2
    missing = runner.invoke(
        main, ["import", str(tmp_path / "nothing"), "--to", str(tmp_path / "s")]
    )
    assert missing.exit_code == 2 and "no such file" in missing.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = runner.invoke(main, ["import", str(empty), "--to", str(tmp_path / "s")])
    assert none.exit_code == 2 and "no DICOM instances" in none.output
    ok = runner.invoke(
        main, ["import", str(small_course), "--to", str(tmp_path / "s")], catch_exceptions=False
    )
    assert ok.exit_code == 0
    assert ok.output.splitlines()[-1].endswith(
        "9 imported, 0 already present, 0 conflicts, 0 unreadable, 0 refused (OK)"
    )


def test_json_document_keys(small_course: Path, tmp_path: Path) -> None:
    run = CliRunner().invoke(
        main,
        ["import", str(small_course), "--to", str(tmp_path / "s"), "--json"],
        catch_exceptions=False,
    )
    doc = json.loads(run.stdout)
    assert list(doc) == [
        "format", "command", "medium", "kind", "volume_id", "target", "destination",
        "summary", "instances", "status", "counts", "findings",
    ]  # fmt: skip
    assert list(doc["summary"]) == [o.value for o in Outcome]
    assert list(doc["instances"][0]) == [
        "outcome", "file_id", "sop_instance_uid", "sop_class_uid", "path", "sha256",
        "status", "attempts", "codes",
    ]  # fmt: skip
    assert doc["format"] == 1 and doc["command"] == "import"


def test_files_without_rows_are_indexed_or_set_aside(small_course: Path, tmp_path: Path) -> None:
    """A complete file at its UID place without a row is indexed; one not at its place is moved."""
    from fixtures.rtcourse import write_course

    store = tmp_path / "s"
    import_to_store(small_course, store)
    other = tmp_path / "other"
    write_course(other, seed=77, n_slices=1)
    ds = pydicom.dcmread(other / "RD.dcm")
    place = store / ds.StudyInstanceUID / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"
    place.parent.mkdir(parents=True)
    shutil.copy(other / "RD.dcm", place)
    wrong = store / "1.2.3" / "4.5" / "6.7.dcm"
    wrong.parent.mkdir(parents=True)
    shutil.copy(other / "RP.photon.dcm", wrong)
    result = import_to_store(small_course, store)
    assert result.summary()["already_present"] == 9
    repairs = sorted(f.message for f in result.findings if f.code == "I510")
    assert [m.split("repaired: ")[1] for m in repairs] == [
        "file without its index row: indexed",
        "unindexed file not at its UID place: set aside",
    ]
    rows = assert_store_consistent(store)
    assert len(rows) == 10
    recovered = next(r for r in rows if r["sop_instance_uid"] == ds.SOPInstanceUID)
    assert recovered["source_medium"] is None and recovered["modality"] == "RTDOSE"
    assert not wrong.exists() and len(list((store / "conflicts" / "unindexed").iterdir())) == 1


def test_iso_instance_with_long_elements_is_read(tmp_path: Path) -> None:
    """An ISO extent is a stream with a name but no file: deferred values cannot be re-read.

    An RT Structure Set with 18 contoured slices has a ROI Contour Sequence over pydicom's
    4 KiB defer size; its header must still be read from the image, and the file imported.
    """
    from fixtures.rtcourse import write_course
    from mediakit.build import build_medium
    from mediakit.profiles import load_profile

    write_course(tmp_path / "export", seed=2, n_slices=18, matrix=8)
    assert (tmp_path / "export" / "RS.dcm").stat().st_size > 8192
    iso = tmp_path / "rs.iso"
    build_medium([tmp_path / "export"], iso, load_profile("STD-GEN-CD"))
    result = import_to_store(iso, tmp_path / "s")
    assert result.complete and result.summary()["imported"] == 25
    classes = {r.sop_class_uid for r in result.instances}
    assert "1.2.840.10008.5.1.4.1.1.481.3" in classes


def test_nested_dicomdir_is_not_an_instance(small_course: Path, tmp_path: Path) -> None:
    """A folder holding a whole medium (DICOMDIR and all) one level down: DICOMDIR skipped."""
    from mediakit.build import build_medium
    from mediakit.profiles import load_profile

    outer = tmp_path / "outer"
    outer.mkdir()
    build_medium([small_course], outer / "disc", load_profile("STD-GEN-USB-JPEG"), fmt="dir")
    result = import_to_store(outer, tmp_path / "s")
    assert result.summary() == {**result.summary(), "imported": 9, "unreadable": 0}
    assert result.complete


def test_bad_calling_aet_is_a_usage_error(small_course: Path) -> None:
    run = CliRunner().invoke(
        main, ["import", str(small_course), "--pacs", "A@127.0.0.1:1", "--calling-aet", "X" * 17]
    )
    assert run.exit_code == 2 and "AE title" in run.output


README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_documents_the_import_codes_and_json_keys(
    small_course: Path, tmp_path: Path
) -> None:
    from mediakit.findings import CODES

    text = README.read_text("utf-8")
    table = text.split("<!-- codes:start -->")[1].split("<!-- codes:end -->")[0]
    for code, entry in CODES.items():
        if code.startswith("I") or code == "S403":
            row = f"| {code} | {entry.severity.value} | {entry.title} | {entry.ref} |"
            assert row in table, row
    run = CliRunner().invoke(
        main, ["import", str(small_course), "--to", str(tmp_path / "s"), "--json"]
    )
    doc = json.loads(run.stdout)
    section = text.split("`import` prints")[1].split("## ")[0]
    for key in [*doc, *doc["summary"], *doc["instances"][0]]:
        assert f"`{key}`" in section, key
