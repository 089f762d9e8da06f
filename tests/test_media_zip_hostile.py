"""A ZIP medium with hostile member names: check names each, ls lists none, import takes none.

The medium is the corpus case tests/media/negative/s402_zip_hostile_members:
the real File-set plus members named to climb out (``../``, absolute, a drive,
backslashes) and a symbolic-link member, each a valid instance of its own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli
from tests.importer.storecheck import assert_store_consistent
from tests.media.negative.s402_zip_hostile_members.make import HOSTILE, make
from tests.test_media_corpus import _tree


def test_hostile_members_are_refused_by_check_ls_and_import(
    base_medium: Path, tmp_path: Path
) -> None:
    medium = tmp_path / "medium"
    shutil.copytree(base_medium, medium)
    archive = make(medium)
    shutil.rmtree(medium)
    before = _tree(tmp_path, tmp_path / "store")

    check = run_cli("check", archive, "--json")
    assert check.returncode == 1, check.stderr
    found = json.loads(check.stdout)["findings"]
    refused = {(f["code"], f["path"]) for f in found if f["code"] in ("S401", "S402")}
    assert refused == {("S401", n) for n in HOSTILE} | {("S402", "PT000000/LINK")}

    ls = run_cli("ls", archive, "--json")
    assert ls.returncode == 0, ls.stderr
    listed = [
        i["file_id"]
        for p in json.loads(ls.stdout)["patients"]
        for st in p["studies"]
        for se in st["series"]
        for i in se["instances"]
    ]
    assert len(listed) == 9 and not set(listed) & {*HOSTILE, "PT000000/LINK"}

    store = tmp_path / "store"
    imported = run_cli("import", archive, "--to", store, "--json")
    assert imported.returncode == 1, imported.stderr
    doc = json.loads(imported.stdout)
    assert doc["summary"]["imported"] == 9 and doc["summary"]["refused"] == 6
    rows = assert_store_consistent(store)
    assert not {r["sop_instance_uid"] for r in rows} & {f"2.25.77{n}" for n in range(5)}
    assert _tree(tmp_path, store) == before, "something was written outside the store"
