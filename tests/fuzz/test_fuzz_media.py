"""Fuzz the media layer: a folder medium with a mutated DICOMDIR, and mutated images from build.

For each example, ``check`` (the runner, profile guessed as the CLI does), the
``ls`` document and ``import`` to a fresh store run on the damaged medium.
They may raise only what is documented (InputError, MediaError: exit 2 and 1),
never write outside the store, never import the instance that sits outside the
medium, and leave a store whose index and files agree.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from itertools import count
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from mediakit.check.runner import check_medium
from mediakit.errors import InputError, MediaError
from mediakit.importer import import_to_store
from mediakit.iso import BLOCK, read_iso
from mediakit.render import ls_doc, ls_text
from tests.fuzz.conftest import EVIL_UID, fuzz_settings, hang_guard
from tests.fuzz.mutate import Seed, apply, mutations, raw_seed, seed
from tests.importer.storecheck import assert_store_consistent, index_rows

_N = count()


def _tree(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every path below root (not below skip), links not followed: size and mtime."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        here = Path(dirpath)
        if here.is_relative_to(skip):
            dirs.clear()
            continue
        for name in (*dirs, *files):
            st_ = (here / name).lstat()
            out[str(here / name)] = (st_.st_size, st_.st_mtime_ns)
    return out


def _every_command(medium: Path, scratch: Path, watched: Path) -> None:
    """check, ls and import on one medium: documented errors only, nothing written outside."""
    store = scratch / f"store{next(_N)}"
    before = _tree(watched, store)
    try:
        with hang_guard(60):
            report = check_medium(medium)  # a damaged image is V308, never an exception
            for code in sorted({f.code for f in report.findings if f.code[0] in "DSV"}):
                event(f"check: {code}")  # what the mutations reach (--hypothesis-show-statistics)
            doc = ls_doc(report.snapshot)
            json.dumps(doc)
            ls_text(doc)
            try:
                result = import_to_store(medium, store)
            except (InputError, MediaError) as exc:
                event(f"import: {type(exc).__name__}")
                result = None
        if result is not None:
            assert_store_consistent(store)
            assert EVIL_UID not in {r["sop_instance_uid"] for r in index_rows(store)}
        assert _tree(watched, store) == before, "something was written outside the store"
    finally:
        shutil.rmtree(store, ignore_errors=True)


@pytest.fixture(scope="module")
def folder_copy(fuzz_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the folder medium whose DICOMDIR each example replaces (OUTSIDE beside it)."""
    root = tmp_path_factory.mktemp("fuzz-media")
    shutil.copytree(fuzz_folder.parent / "OUTSIDE", root / "OUTSIDE")
    shutil.copytree(fuzz_folder, root / "medium")
    return root / "medium"


@pytest.mark.filterwarnings("ignore::UserWarning")
@given(data=st.data())
@fuzz_settings(40, deadline=20)
def test_folder_medium_with_a_mutated_dicomdir(
    data: st.DataObject, fuzz_folder: Path, folder_copy: Path, scratch: Path
) -> None:
    s = seed("built DICOMDIR", (fuzz_folder / "DICOMDIR").read_bytes())
    ops = data.draw(mutations(s), label="ops")
    (folder_copy / "DICOMDIR").write_bytes(apply(s.data, ops))
    _every_command(folder_copy, scratch, folder_copy.parent)


@pytest.fixture(scope="module")
def iso_seed(fuzz_iso: Path) -> Seed:
    """The built image; its hot range is the volume descriptors up to the first file."""
    data = fuzz_iso.read_bytes()
    with open(fuzz_iso, "rb") as fp:
        _, files, _ = read_iso(fp, str(fuzz_iso))
    first = min(start for f in files for start, _ in f.extents)
    return replace(raw_seed("built image", data), hot=(16 * BLOCK, first - 1))


@pytest.mark.filterwarnings("ignore::UserWarning")
@given(data=st.data())
@fuzz_settings(40, deadline=20)
def test_image_built_by_mediakit_mutated(
    data: st.DataObject,
    iso_seed: Seed,
    tmp_path_factory: pytest.TempPathFactory,
    scratch: Path,
) -> None:
    image = iso_seed.data
    ops = data.draw(mutations(iso_seed, hot=iso_seed.hot, image=True), label="ops")
    mutated = apply(image, ops)
    folder = scratch / "image"
    folder.mkdir(exist_ok=True)
    path = folder / "course.iso"
    path.write_bytes(mutated)
    if mutated[16 * BLOCK + 1 : 16 * BLOCK + 6] != b"CD001":
        event("no longer an ISO 9660 image")
        with pytest.raises(InputError, match="not an ISO 9660 image"):
            check_medium(path)  # no longer an image by content: a usage error, exit 2
        return
    _every_command(path, scratch, folder)
