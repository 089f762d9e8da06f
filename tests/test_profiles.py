"""profiles: the seven STD-GEN profiles load from data, also from an installed wheel."""

from __future__ import annotations

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
