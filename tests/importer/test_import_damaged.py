"""A bit flipped in transit: import leaves exactly that file out (V306) and takes the rest."""

from __future__ import annotations

import shutil
from pathlib import Path

from mediakit.importer import Outcome, import_to_store
from mediakit.media import open_medium
from tests.importer.storecheck import assert_store_consistent


def _flip(image: Path, at: int) -> None:
    with open(image, "r+b") as fp:
        fp.seek(at)
        byte = fp.read(1)[0]
        fp.seek(at)
        fp.write(bytes([byte ^ 0x01]))


def test_each_flipped_instance_is_left_out_and_named(course_iso: Path, tmp_path: Path) -> None:
    with open_medium(course_iso) as medium:
        instances = [f for f in medium.files() if f.parts[0].startswith("PT")]  # not PDI pages
    assert len(instances) == 11
    for n, f in enumerate(instances):
        damaged = tmp_path / f"damaged{n}.iso"
        shutil.copy(course_iso, damaged)
        start, length = f.handle[0]  # type: ignore[index]
        _flip(damaged, start + length - 3)  # inside the last element, past every header
        store = tmp_path / f"store{n}"
        result = import_to_store(damaged, store)
        fid = "/".join(f.parts)
        left_out = [r for r in result.instances if r.outcome is not Outcome.IMPORTED]
        assert [(r.file_id, r.outcome) for r in left_out] == [(f.raw, Outcome.UNREADABLE)], fid
        assert [x.code for x in left_out[0].findings] == ["V306"]
        assert left_out[0].findings[0].path == fid
        assert not result.complete
        assert len(assert_store_consistent(store)) == 10
        damaged.unlink()


def test_damage_is_found_under_lowercase_names(course_extracted: Path, tmp_path: Path) -> None:
    """A CD copied off a Linux mount (map=normal) has lowercase names; SHA256.TXT has not."""
    copy = tmp_path / "copy"
    for src in sorted(course_extracted.rglob("*")):
        dst = copy / src.relative_to(course_extracted).as_posix().lower()
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    assert (copy / "sha256.txt").is_file()
    victim = sorted(p for p in (copy / "pt000000").rglob("*") if p.is_file())[0]
    _flip(victim, victim.stat().st_size - 3)
    result = import_to_store(copy, tmp_path / "store")
    left_out = [r for r in result.instances if r.outcome is not Outcome.IMPORTED]
    assert [(r.file_id, r.outcome) for r in left_out] == [
        (victim.relative_to(copy).as_posix(), Outcome.UNREADABLE)
    ]
    assert [f.code for f in left_out[0].findings] == ["V306"]
    assert len(assert_store_consistent(tmp_path / "store")) == 10
