"""A hostile medium: traversal File IDs, links out, UIDs made to be paths. Nothing escapes."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pydicom
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediakit.build import build_medium
from mediakit.dicomdir.encode import encode_dicomdir
from mediakit.dicomdir.model import Record, walk_all
from mediakit.dicomdir.parse import parse_dicomdir
from mediakit.importer import Outcome, import_to_store
from mediakit.importer.plan import uid_problem
from mediakit.profiles import load_profile
from tests.importer.storecheck import assert_store_consistent, store_files

CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"


def _tree(root: Path) -> dict[str, tuple[str, int]]:
    """Every file below ``root`` (links not followed): sha256 and mtime."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_symlink():
                out[str(p)] = ("link", 0)
                continue
            out[str(p)] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


def _same_length_swap(data: bytes, old: str, new: str) -> bytes:
    assert len(old) == len(new) and old.encode() in data
    return data.replace(old.encode(), new.encode())


@pytest.fixture
def hostile(tmp_path: Path, small_course: Path) -> Path:
    """A folder medium with a real DICOMDIR plus every trick this test knows."""
    medium = tmp_path / "medium"
    build_medium([small_course], medium, load_profile("STD-GEN-USB-JPEG"), fmt="dir")
    outside = tmp_path / "outside"
    outside.mkdir()
    ct = sorted(small_course.glob("CT.*.dcm"))[0]
    ds = pydicom.dcmread(ct)
    study, sop = str(ds.StudyInstanceUID), str(ds.SOPInstanceUID)
    data = ct.read_bytes()

    def variant(new_sop: str) -> bytes:
        return _same_length_swap(data, sop, new_sop)

    # Targets outside the medium, each a valid instance of its own: following a path would import it
    (outside / "EVIL").write_bytes(variant(sop[:-1] + ("1" if sop[-1] != "1" else "2")))
    (outside / "EVIL2").write_bytes(variant(sop[:-1] + ("3" if sop[-1] != "3" else "4")))
    os.symlink(outside / "EVIL2", medium / "LINK")  # S402
    # UIDs made to be paths or otherwise invalid (S403), and one without a Series UID (I501)
    escape = ("../" * 22)[: len(study) - 6] + "escape"
    (medium / "BADUID").write_bytes(_same_length_swap(variant(sop[:-1] + "5"), study, escape))
    last = sop.rsplit(".", 1)[1]
    (medium / "ZEROUID").write_bytes(variant(sop[: -len(last)] + "0" + last[:-1]))
    bare = pydicom.dcmread(ct)
    bare.SOPInstanceUID = bare.file_meta.MediaStorageSOPInstanceUID = sop[:-1] + "7"
    del bare.SeriesInstanceUID
    bare.save_as(medium / "NOSERIES")
    # The DICOMDIR, re-encoded with hostile records beside the real ones
    parsed = parse_dicomdir((medium / "DICOMDIR").read_bytes())
    series = next(r for _, r in walk_all(parsed.roots) if r.record_type == "SERIES")
    for n, fid in enumerate(
        [("..", "outside", "EVIL"), ("", "abs", "EVIL"), ("C:", "EVIL"), ("MISSING",)]
    ):
        series.children.append(
            Record("IMAGE", file_id=fid, sop_class_uid=CT_CLASS, sop_instance_uid=f"1.2.3.{n}")
        )
    dicomdir = encode_dicomdir(parsed.roots, fileset_id=parsed.fileset_id, fileset_uid="1.2.3")
    (medium / "DICOMDIR").write_bytes(dicomdir)
    return medium


def test_nothing_is_written_outside_the_store(hostile: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    before = _tree(tmp_path)
    result = import_to_store(hostile, store)
    after = {k: v for k, v in _tree(tmp_path).items() if not k.startswith(str(store) + os.sep)}
    assert after == before, "something outside the store changed"

    by_code: dict[str, int] = {}
    for f in result.all_findings:
        by_code[f.code] = by_code.get(f.code, 0) + 1
    assert by_code.get("S401") == 3  # '..', absolute, drive letter
    assert by_code.get("S402") == 1  # the link out
    assert by_code.get("S403") == 2  # a UID of '../', a UID with a leading zero
    assert by_code.get("I502") == 1 and by_code.get("I501") == 1
    summary = result.summary()
    assert (summary["imported"], summary["refused"], summary["unreadable"]) == (9, 6, 2)
    assert not result.complete

    rows = assert_store_consistent(store)
    assert len(rows) == 9 == len(store_files(store))
    allowed = {"index.sqlite", "index.sqlite-wal", "index.sqlite-shm", "import-log.jsonl", ".lock"}
    for p in store.rglob("*"):
        rel = p.relative_to(store)
        assert not p.is_symlink()
        assert "escape" not in str(rel)
        if p.is_file() and len(rel.parts) == 1:
            assert rel.name in allowed, rel
    evil = {pydicom.dcmread(p).SOPInstanceUID for p in (tmp_path / "outside").iterdir()}
    assert not evil & {r["sop_instance_uid"] for r in rows}


def test_refusals_are_logged(hostile: Path, tmp_path: Path) -> None:
    import json

    result = import_to_store(hostile, tmp_path / "store")
    log = [
        json.loads(x) for x in (tmp_path / "store" / "import-log.jsonl").read_text().splitlines()
    ]
    refused = [x for x in log if x["event"] == "refused"]
    assert len(refused) == sum(r.outcome is Outcome.REFUSED for r in result.instances) == 6
    assert sorted(c for x in refused for c in x["codes"]) == ["S401"] * 3 + ["S402"] + ["S403"] * 2


@pytest.mark.parametrize(
    ("uid", "why"),
    [
        ("1.2.840.10008.1.2", None),
        ("0.1", None),
        ("2.25.0", None),
        ("", "empty"),
        ("1.2.03", "leading zero"),
        ("1..2", "empty component"),
        (".1.2", "empty component"),
        ("1.2.", "empty component"),
        ("1.2/3", "digits"),
        ("../../etc", "digits"),
        ("1.2\x00", "digits"),
        ("1" * 65, "more than 64"),
    ],
)
def test_uid_rules(uid: str, why: str | None) -> None:
    got = uid_problem(uid)
    assert (got is None) if why is None else (got is not None and why in got), got


@given(st.text(max_size=80))
def test_a_valid_uid_is_a_safe_path_component(value: str) -> None:
    """Whatever a medium says, a UID that passes is a plain, short, relative name."""
    if uid_problem(value) is None:
        assert 0 < len(value) <= 64
        assert set(value) <= set("0123456789.")
        assert value not in (".", "..") and not value.startswith(".") and ".." not in value
        assert Path(value).name == value


def test_store_link_planted_inside_the_store_is_not_followed(
    small_course: Path, tmp_path: Path
) -> None:
    """A study folder replaced by a link out of the store: import refuses to write through it."""
    from mediakit.importer.store import StoreWriteError

    store = tmp_path / "store"
    import_to_store(small_course, store)
    study = next(p for p in store.iterdir() if p.name[0].isdigit())
    shutil.rmtree(study)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, study)
    with pytest.raises(StoreWriteError, match="outside the store"):
        import_to_store(small_course, store)
    assert list(elsewhere.iterdir()) == []
