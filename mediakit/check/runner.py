"""``CHECKS``, the registry of rules, and the runner that applies them to a medium.

The runner guesses the profile when none is given (and says so, V305), runs
every rule over one snapshot, and sorts findings by (path, code) so output is
stable. ``--strict`` is applied by the caller through :func:`findings.has_errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from mediakit._types import Progress
from mediakit.check import dicomdir, fileset, rt, volume
from mediakit.check.part10 import file_findings
from mediakit.check.snapshot import Snapshot, take_snapshot
from mediakit.findings import Finding, finding, sort_key
from mediakit.media import open_medium
from mediakit.part10 import EXPLICIT_VR_LE
from mediakit.profiles import Profile, load_profile

Check = Callable[[Snapshot, Profile], Iterator[Finding]]


def _part10_rules(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """P101-P108 over every DICOM file, and P106 for referenced files that are not DICOM."""
    referenced = {r.file.parts for r in snap.resolutions.values() if r.file is not None}
    for facts in snap.files:
        if facts.header is not None:
            yield from file_findings(facts.header, facts.file.raw, profile)
        elif facts.error is not None and (facts.file.parts in referenced):
            yield finding("P106", facts.file.raw, facts.error)


CHECKS: Final[Mapping[str, Check]] = MappingProxyType(
    {
        "P1xx": _part10_rules,
        "D101": dicomdir.d101_dicomdir_present,
        "D1xx": dicomdir.parser_findings,
        "D108": dicomdir.d108_record_level,
        "D109": dicomdir.d109_required_keys,
        "D110": dicomdir.d110_record_type_fits,
        "D111": dicomdir.d111_record_matches_file,
        "D112": dicomdir.d112_referenced_files_exist,
        "D114": dicomdir.d114_one_record_per_file,
        "D115": dicomdir.d115_dicom_files_referenced,
        "D116": dicomdir.d116_unique_entities,
        "D117": dicomdir.d117_std_gen_hierarchy,
        "D120": dicomdir.d120_no_empty_entities,
        "D124": dicomdir.d124_keys_match_files,
        "F201": fileset.f201_file_id_characters,
        "F202": fileset.f202_file_id_depth,
        "F203": fileset.f203_f204_s401_resolution,
        "F205": fileset.f205_fileset_id,
        "V301": volume.v301_iso_level1_names,
        "V302": volume.v302_volume_id_is_fileset_id,
        "V303": volume.v303_capacity,
        "V304": volume.v304_medium_kind,
        "V306": volume.v306_manifest,
        "R5xx": rt.rt_rules,
    }
)


@dataclass(frozen=True)
class Report:
    """The outcome of checking one medium."""

    profile: Profile
    guessed: bool
    findings: tuple[Finding, ...]
    snapshot: Snapshot


def guess_profile(snap: Snapshot) -> Profile:
    """The profile a medium most plausibly claims: by medium kind, syntaxes and size."""
    syntaxes = {f.header.transfer_syntax for f in snap.files if f.header is not None}
    family = "JPEG"
    if syntaxes & {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"}:
        family = "J2K"
    if snap.kind != "iso":
        return load_profile(f"STD-GEN-USB-{family}")
    cd = load_profile("STD-GEN-CD")
    if syntaxes <= {EXPLICIT_VR_LE} and snap.total_bytes <= cd.capacity_bytes:
        return cd
    dvd = load_profile(f"STD-GEN-DVD-{family}")
    if snap.iso is not None and snap.iso.udf and snap.total_bytes > dvd.capacity_bytes:
        return load_profile(f"STD-GEN-BD-{family}")
    return dvd


def run_checks(snap: Snapshot, profile: Profile) -> tuple[Finding, ...]:
    """Every registered check over one snapshot, medium-listing findings included."""
    found = list(snap.findings)
    for check in CHECKS.values():
        found.extend(check(snap, profile))
    return tuple(sorted(found, key=sort_key))


def check_medium(
    path: Path,
    profile: Profile | None = None,
    *,
    expected: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Open the medium at ``path`` afresh, read it once and run every check.

    ``expected`` is a manifest (File ID ``A/B/C`` -> SHA-256) to verify every file against.
    """
    with open_medium(path) as medium:
        snap = take_snapshot(medium, expected=expected, progress=progress)
    guessed = profile is None
    chosen = guess_profile(snap) if profile is None else profile
    found = run_checks(snap, chosen)
    if guessed:
        found = (finding("V305", snap.label, chosen.id), *found)
    return Report(chosen, guessed, found, snap)
