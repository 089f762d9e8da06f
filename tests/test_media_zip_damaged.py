"""Damaged ZIP media (issue 8): one damaged member is one finding, the rest still read.

The corpus cases tests/media/negative/{v308_zip_member_*,s405_zip_bomb,
f204_zip_duplicate_members} check the codes; these check what import and the
archive layer do with them.
"""

from __future__ import annotations

import importlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from mediakit.errors import MediaError
from mediakit.media import open_medium
from mediakit.ziparchive import BOMB_SIZE, ZipArchive
from tests.conftest import run_cli
from tests.importer.storecheck import assert_store_consistent
from tests.media import _lib
from tests.test_media_corpus import _tree


def _case(name: str, base_medium: Path, tmp_path: Path) -> Path:
    medium = tmp_path / "medium"
    shutil.copytree(base_medium, medium)
    make = importlib.import_module(f"tests.media.negative.{name}.make").make
    archive: Path = make(medium)
    return archive


@pytest.mark.parametrize(
    "name",
    ["v308_zip_member_bad_crc", "v308_zip_member_corrupt_deflate", "v308_zip_member_cut"],
)
def test_a_damaged_member_is_not_imported_and_the_others_are(
    name: str, base_medium: Path, tmp_path: Path
) -> None:
    archive = _case(name, base_medium, tmp_path)
    store = tmp_path / "store"
    before = _tree(tmp_path, store)
    imported = run_cli("import", archive, "--to", store, "--json")
    assert imported.returncode == 1, imported.stderr
    assert "Traceback" not in imported.stderr
    doc = json.loads(imported.stdout)
    assert doc["summary"]["imported"] == 8 and doc["summary"]["unreadable"] == 1
    assert len(assert_store_consistent(store)) == 8
    assert _tree(tmp_path, store) == before
    check = run_cli("check", archive, "--json")
    damaged = [f for f in json.loads(check.stdout)["findings"] if f["code"] == "V308"]
    assert [f["path"] for f in damaged] == [_lib.CT_FILE]
    assert "ZIP member damaged" in damaged[0]["message"]


def test_duplicate_members_say_which_one_is_read(base_medium: Path, tmp_path: Path) -> None:
    archive = _case("f204_zip_duplicate_members", base_medium, tmp_path)
    with open_medium(archive) as medium:
        (dup,) = [f for f in medium.findings() if f.code == "F204"]
        assert dup.path == _lib.CT_FILE and "the last one is read" in dup.message
        (member,) = [f for f in medium.files() if f.raw == _lib.CT_FILE]
        assert medium.read_bytes(member, 1 << 20)[128:132] == b"DICM"
    store = tmp_path / "store"
    imported = run_cli("import", archive, "--to", store, "--json")
    assert json.loads(imported.stdout)["summary"]["imported"] == 9, imported.stdout


def test_a_bomb_read_directly_stops_at_the_limit(tmp_path: Path) -> None:
    """The listing refuses the bomb (S405); reading it anyway stops just past the limit."""
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("BOMB", bytes(BOMB_SIZE + (8 << 20)))
    with open_medium(archive) as medium:
        assert [(f.code, f.path) for f in medium.findings()] == [("S405", "BOMB")]
        assert not medium.files()
    zipped = ZipArchive(archive, str(archive))
    with zipped.open(zipped.members[0]) as fp, pytest.raises(MediaError) as caught:
        while fp.read(1 << 20):
            assert fp.tell() <= BOMB_SIZE + (1 << 20)
    assert caught.value.code == "S405"


def test_an_archive_with_a_garbled_central_directory_says_so(tmp_path: Path) -> None:
    archive = tmp_path / "garbled.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("A", b"x" * 100)
    data = bytearray(archive.read_bytes())
    at = data.rindex(b"PK\x01\x02")
    data[at : at + 4] = b"XX\x01\x02"  # the central directory entry's signature garbled
    archive.write_bytes(bytes(data))
    with pytest.raises(MediaError, match="central directory unreadable"):
        open_medium(archive)
