"""profiles: the seven STD-GEN profiles load from data, also from an installed wheel."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mediakit.errors import ProfileError
from mediakit.profiles import (
    base_record_keys,
    load_profile,
    profile_ids,
    record_type_for,
)

ROOT = Path(__file__).resolve().parents[1]
SEVEN = {
    "STD-GEN-CD",
    "STD-GEN-DVD-JPEG",
    "STD-GEN-DVD-J2K",
    "STD-GEN-USB-JPEG",
    "STD-GEN-USB-J2K",
    "STD-GEN-BD-JPEG",
    "STD-GEN-BD-J2K",
}
ELE = "1.2.840.10008.1.2.1"


def test_all_seven_profiles_ship() -> None:
    assert set(profile_ids()) == SEVEN


@pytest.mark.parametrize("pid", sorted(SEVEN))
def test_profile_is_complete_and_cites_its_source(pid: str) -> None:
    p = load_profile(pid)
    assert p.annex.startswith("PS3.11 Annex") and p.edition
    assert p.transfer_syntaxes[0] == ELE
    assert p.default_format == ("dir" if "USB" in pid else "iso")
    text = (ROOT / "profiles" / f"{pid}.toml").read_text()
    assert "PS3.12" in text and "edition" in text


def test_cd_is_explicit_little_endian_only() -> None:
    assert load_profile("STD-GEN-CD").transfer_syntaxes == (ELE,)


def test_jpeg_and_j2k_syntaxes() -> None:
    assert "1.2.840.10008.1.2.4.70" in load_profile("STD-GEN-DVD-JPEG").transfer_syntaxes
    assert "1.2.840.10008.1.2.4.90" in load_profile("STD-GEN-USB-J2K").transfer_syntaxes
    assert "1.2.840.10008.1.2.4.90" not in load_profile("STD-GEN-BD-JPEG").transfer_syntaxes


def test_profile_names_are_case_insensitive_and_unknown_ones_fail() -> None:
    assert load_profile("std-gen-cd").id == "STD-GEN-CD"
    with pytest.raises(ProfileError, match="unknown profile 'STD-GEN-FLOPPY'"):
        load_profile("STD-GEN-FLOPPY")


@pytest.mark.parametrize(
    ("uid", "record"),
    [
        ("1.2.840.10008.5.1.4.1.1.481.5", "RT PLAN"),
        ("1.2.840.10008.5.1.4.1.1.481.8", "RT PLAN"),
        ("1.2.840.10008.5.1.4.1.1.481.2", "RT DOSE"),
        ("1.2.840.10008.5.1.4.1.1.481.3", "RT STRUCTURE SET"),
        ("1.2.840.10008.5.1.4.1.1.481.4", "RT TREAT RECORD"),
        ("1.2.840.10008.5.1.4.1.1.481.9", "RT TREAT RECORD"),
        ("1.2.840.10008.5.1.4.1.1.481.1", "IMAGE"),
        ("1.2.840.10008.5.1.4.1.1.66.1", "REGISTRATION"),
        ("1.2.840.10008.5.1.4.1.1.481.12", "RADIOTHERAPY"),
        ("1.2.840.10008.5.1.4.34.7", "PLAN"),
        ("1.2.840.10008.5.1.4.1.1.2", "IMAGE"),
        ("1.2.3.4.5", None),
    ],
)
def test_record_type_table(uid: str, record: str | None) -> None:
    assert record_type_for(uid) == record


def test_every_mapped_record_type_has_keys() -> None:
    import tomllib

    table = tomllib.loads((ROOT / "profiles" / "record_types.toml").read_text())
    assert set(table["record_type"].values()) <= set(base_record_keys())


def test_profiles_are_inside_the_wheel(tmp_path: Path) -> None:
    """Installed from a wheel (not only editable), the package finds its profiles."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "wheel"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    wheel = next((tmp_path / "wheel").glob("mediakit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"mediakit/_profiledata/{p}.toml" for p in SEVEN} <= set(names)
    assert "mediakit/_profiledata/record_types.toml" in names
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import mediakit.profiles as p; print(len(p.profile_ids()), "
            "p.load_profile('STD-GEN-CD').capacity_bytes, p.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target)},
    )
    assert probe.returncode == 0, probe.stderr
    count, capacity, where = probe.stdout.split()
    assert (count, capacity) == ("7", "681984000") and where.startswith(str(target))


@pytest.mark.parametrize("pid", sorted(SEVEN))
def test_the_edition_field_says_what_was_transcribed(pid: str) -> None:
    """The file's comment names the edition transcribed; the field must not claim a later one."""
    text = (ROOT / "profiles" / f"{pid}.toml").read_text()
    transcribed = re.search(r"Transcribed from the (\d{4}[a-e]) text", text)
    assert transcribed, pid
    edition = load_profile(pid).edition
    assert edition.split()[0] == transcribed[1], (edition, transcribed[0])
    rechecked = re.search(r"re-checked (\S+)\)", text)
    assert rechecked and rechecked[1] in edition, edition
    shown = subprocess.run(
        [sys.executable, "-m", "mediakit", "profiles", pid], capture_output=True, text=True
    )
    assert f"edition {edition}" in shown.stdout


@pytest.mark.parametrize("name", ["record_keys.toml", "record_types.toml"])
def test_the_standard_tables_name_the_edition_they_were_taken_from(name: str) -> None:
    import tomllib

    text = (ROOT / "profiles" / name).read_text()
    edition = tomllib.loads(text)["edition"]
    assert "2020a" in text.split("format = 1")[0] and edition.startswith("2020a"), edition


def test_the_modality_table_names_real_sop_classes_and_defined_terms() -> None:
    import tomllib

    from pydicom.uid import UID

    from fixtures.rtcourse import _MODALITY, SOP_CLASSES
    from mediakit.profiles import modality_for

    text = (ROOT / "profiles" / "modalities.toml").read_text()
    data = tomllib.loads(text)
    assert data["edition"] and "PS3.3" in text and "C.7.3.1.1.1" in text
    for uid, modality in data["modality"].items():
        comment = re.search(re.escape(f'"{uid}"') + r".*#\s*([^(\n]*)", text)
        assert comment and UID(uid).name == comment[1].strip(), uid  # named as pydicom names it
        assert re.fullmatch(r"[A-Z]{2,8}", modality), modality  # a Defined Term (CS)
    for kind, sop_class in SOP_CLASSES.items():  # the fixtures' own table, written apart
        assert modality_for(sop_class) == _MODALITY[kind], kind
    assert modality_for("1.2.840.10008.5.1.4.1.1.7") is None  # Secondary Capture: any


def test_every_profile_names_the_file_systems_its_medium_may_carry() -> None:
    carried = {p: load_profile(p).medium_filesystems for p in profile_ids()}
    assert all(fs and set(fs) <= {"iso9660", "udf", "fat"} for fs in carried.values()), carried
    assert carried["STD-GEN-BD-JPEG"] == ("udf",) and carried["STD-GEN-CD"] == ("iso9660",)
