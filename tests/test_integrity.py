"""The SHA-256 manifest catches damage in transit, and names exactly the file damaged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mediakit.check.runner import check_medium
from mediakit.manifest import format_manifest, parse_manifest
from mediakit.media import open_medium
from mediakit.profiles import load_profile

CD = load_profile("STD-GEN-CD")


def _flip(image: Path, at: int) -> None:
    with open(image, "r+b") as fp:
        fp.seek(at)
        byte = fp.read(1)[0]
        fp.seek(at)
        fp.write(bytes([byte ^ 0x10]))


def test_one_bit_flipped_in_each_file_is_reported_with_that_file(
    course_iso: Path, tmp_path: Path
) -> None:
    with open_medium(course_iso) as medium:
        files = [("/".join(f.parts), f.handle) for f in medium.files()]
    assert len(files) == 17  # 11 instances, DICOMDIR, SHA256.TXT, README, INDEX, 2 PDI pages
    for file_id, extents in files:
        damaged = tmp_path / "damaged.iso"
        shutil.copy(course_iso, damaged)
        start, length = extents[0]  # type: ignore[index]
        _flip(damaged, start + length // 2)
        report = check_medium(damaged, CD)
        named = {f.path for f in report.findings if f.code == "V306"}
        assert named == {file_id}, (file_id, [f.line() for f in report.findings])
        assert any(f.severity.value == "error" for f in report.findings)


def test_the_seal_tells_a_damaged_manifest_from_a_damaged_file() -> None:
    text = format_manifest([("DICOMDIR", "a" * 64), ("PT000000/IM000000", "b" * 64)])
    assert parse_manifest(text) == ({"DICOMDIR": "a" * 64, "PT000000/IM000000": "b" * 64}, [])
    damaged = text.replace(b"b" * 64, b"c" + b"b" * 63)  # still well-formed, but not sealed
    assert parse_manifest(damaged) == (None, ["is damaged: its seal does not match its content"])
    unsealed = b"".join(line + b"\n" for line in text.splitlines() if not line.startswith(b"#"))
    assert parse_manifest(unsealed)[0] == {"DICOMDIR": "a" * 64, "PT000000/IM000000": "b" * 64}


@pytest.mark.parametrize("line", [b"zz  DICOMDIR\n", b"\x00\x01garbage\n"])
def test_lines_that_do_not_parse_are_reported(line: bytes) -> None:
    listed, problems = parse_manifest(b"a" * 64 + b"  DICOMDIR\n" + line)
    assert listed == {"DICOMDIR": "a" * 64}
    assert problems == ["line 2 is not '<sha256>  <File ID>'"]


def test_damage_is_reported_in_findings_not_as_library_warnings(
    course_iso: Path, tmp_path: Path
) -> None:
    from tests.conftest import run_cli

    damaged = tmp_path / "damaged.iso"
    shutil.copy(course_iso, damaged)
    with open_medium(course_iso) as medium:
        dicomdir = next(f for f in medium.files() if f.parts == ("DICOMDIR",))
    start, length = dicomdir.handle[0]  # type: ignore[index]
    for at in range(start + 400, start + length, 97):  # scar the records' values
        _flip(damaged, at)
    run = run_cli("check", damaged)
    assert run.returncode == 1 and "V306" in run.stdout
    assert run.stderr == ""


def _lowercased_copy(medium: Path, out: Path) -> None:
    """The medium as a Linux mount without Joliet shows it: names lowercase, files ';1'."""
    for path in sorted(p for p in medium.rglob("*") if p.is_file()):
        *dirs, name = (c.lower() for c in path.relative_to(medium).parts)
        target = out.joinpath(*dirs, f"{name};1")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)


def test_manifest_names_resolve_like_file_ids_on_a_lowercase_mount(
    course_extracted: Path, tmp_path: Path
) -> None:
    """SHA256.TXT says PT000000/...; the mount says pt000000/...;1: the same files, no V306."""
    lower = tmp_path / "lower"
    _lowercased_copy(course_extracted, lower)
    report = check_medium(lower, CD)
    assert not [f.line() for f in report.findings if f.code == "V306"]
    damaged = next(p for p in sorted(lower.rglob("im*")) if p.is_file())
    _flip(damaged, damaged.stat().st_size // 2)
    report = check_medium(lower, CD)
    named = [f.path for f in report.findings if f.code == "V306"]
    assert len(named) == 1 and named[0].lower() in str(damaged).replace(";1", "").lower()
