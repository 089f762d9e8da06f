"""Each performance change (issue 7) against the slower code it replaced, on the same inputs.

The slow versions live here, written as they were before, so a fast path that
drifts from them fails: header keys and File Meta values, RT value lookups, the
profile guess reusing its findings, a snapshot asked for fewer attributes, the
folder writer that now fsyncs after writing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from fixtures.rtcourse import QUIRKS, write_course
from mediakit.check.runner import check_medium, guess_profile, run_checks
from mediakit.check.snapshot import every_keyword, take_snapshot
from mediakit.importer.scan import KEYWORDS as IMPORT_KEYWORDS
from mediakit.iso import Entry
from mediakit.media import open_medium, write_medium
from mediakit.part10 import _load, _text, read_header
from mediakit.rt import values as v
from tests.conftest import pydicom_file

PYDICOM_FILES = ("CT_small.dcm", "rtplan.dcm", "rtstruct.dcm", "rtdose.dcm", "MR_small.dcm")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A course in every export quirk, and pydicom's own files."""
    root = tmp_path_factory.mktemp("samples")
    files = write_course(root / "plain", seed=71, n_slices=2)
    for quirk in QUIRKS:
        files += write_course(root / quirk, seed=72, n_slices=1, quirks=[quirk])
    return files + [pydicom_file(n) for n in PYDICOM_FILES]


def _slow_keys(path: Path, keywords: tuple[str, ...]) -> tuple[dict[str, str], Dataset]:
    """Keys and File Meta values the way part10 read them before (keyword by keyword)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=True, defer_size=4096)
        meta = {
            kw: _text(ds.file_meta[kw].value) for kw in ds.file_meta.dir() if kw in ds.file_meta
        }
        keys = Dataset()
        for kw in (*keywords, "SpecificCharacterSet"):
            try:
                if kw in ds:
                    keys[kw] = _load(ds[kw])
            except Exception:
                continue
    return meta, keys


@pytest.mark.parametrize("keywords", [every_keyword(), IMPORT_KEYWORDS, ("NoSuchKeyword",)])
def test_header_keys_and_meta_as_before(samples: list[Path], keywords: tuple[str, ...]) -> None:
    for path in samples:
        header = read_header(path, keywords=keywords)
        meta, keys = _slow_keys(path, keywords)
        assert list(header.meta.items()) == list(meta.items()), path
        assert header.keys == keys, path
        assert [e.tag for e in header.keys] == [e.tag for e in keys], path
        # a value converted once and reused still says where it is in this file
        assert [e.file_tell for e in header.keys] == [e.file_tell for e in keys], path


def _slow_raw(ds: Dataset, kw: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if kw not in ds:
                return None
            return ds[kw].value
        except Exception:
            return None


def test_rt_value_lookups_as_before(samples: list[Path]) -> None:
    asked = (*every_keyword(), "NoSuchKeyword", "")
    for path in samples:
        keys = read_header(path, keywords=every_keyword()).keys
        for kw in asked:
            assert v.raw(keys, kw) == _slow_raw(keys, kw), (path, kw)


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mediakit.build import build_medium
    from mediakit.profiles import load_profile

    root = tmp_path_factory.mktemp("fast")
    write_course(root / "in", seed=73, n_slices=3)
    out = root / "m.iso"
    build_medium([root / "in"], out, load_profile("STD-GEN-CD"))
    return out


def test_guessed_check_reports_what_checking_the_guess_reports(medium: Path) -> None:
    report = check_medium(medium)
    with open_medium(medium) as m:
        snap = take_snapshot(m)
    chosen = guess_profile(snap)
    assert report.profile == chosen
    assert report.findings[1:] == run_checks(snap, chosen)
    assert report.findings[0].code == "V305"


def test_fewer_keywords_same_headers(medium: Path) -> None:
    with open_medium(medium) as m:
        full = take_snapshot(m)
        lean = take_snapshot(m, keywords=IMPORT_KEYWORDS, own_manifest=False)
    assert [f.file for f in full.files] == [f.file for f in lean.files]
    assert all(f.sha256 for f in full.files) and not any(f.sha256 for f in lean.files)
    for a, b in zip(full.files, lean.files, strict=True):
        assert (a.header is None) == (b.header is None) and a.error == b.error
        if a.header is None or b.header is None:
            continue
        assert (a.header.sop_instance_uid, a.header.meta) == (
            b.header.sop_instance_uid,
            b.header.meta,
        )
        for kw in IMPORT_KEYWORDS:
            assert v.raw(a.header.keys, kw) == v.raw(b.header.keys, kw)


def test_folder_writer_writes_every_file_whole(tmp_path: Path) -> None:
    files = write_course(tmp_path / "in", seed=74, n_slices=3)
    entries = [Entry(("PT000000", "SE000000", f"IM{n:06d}"), f, f.stat().st_size)
               for n, f in enumerate(files)]  # fmt: skip
    out = tmp_path / "out"
    write_medium(entries, out, fmt="dir", volume_id="X")
    for e in entries:
        assert out.joinpath(*e.file_id).read_bytes() == e.source.read_bytes()
    assert sorted(p for p in out.rglob("*") if p.is_file()) == sorted(
        out.joinpath(*e.file_id) for e in entries
    )


def test_a_given_profile_finds_what_the_full_snapshot_finds(medium: Path) -> None:
    from mediakit.profiles import load_profile, profile_ids

    with open_medium(medium) as m:
        full = take_snapshot(m)
    for name in profile_ids():
        profile = load_profile(name)
        assert check_medium(medium, profile).findings == run_checks(full, profile), name


def _slow_text(ds: Dataset, keyword: str) -> str:
    try:
        if keyword not in ds or ds[keyword].VR == "SQ" or ds[keyword].value is None:
            return ""
        return str(ds[keyword].value).strip()
    except Exception:
        return ""


def test_import_value_lookups_as_before(samples: list[Path]) -> None:
    from mediakit.importer.plan import text

    for path in samples:
        keys = read_header(path, keywords=every_keyword()).keys
        for kw in (*every_keyword(), "NoSuchKeyword"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert text(keys, kw) == _slow_text(keys, kw), (path, kw)
