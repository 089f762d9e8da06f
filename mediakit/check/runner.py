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
from mediakit.check.snapshot import Snapshot, keywords_for, take_snapshot, unreadable_snapshot
from mediakit.errors import MediaError
from mediakit.findings import Finding, Severity, finding, sort_key
from mediakit.media import medium_kind, open_medium
from mediakit.part10 import quiet_pydicom
from mediakit.profiles import Profile, load_profile

Check = Callable[[Snapshot, Profile], Iterator[Finding]]
_J2K: Final = frozenset({"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"})


def _part10_rules(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """P101-P109 over every DICOM file; a damaged one ('DICM', unreadable) is P109 or P106,
    and so is a referenced file that is not DICOM (P106)."""
    referenced = {r.file.parts for r in snap.resolutions.values() if r.file is not None}
    for facts in snap.files:
        if facts.header is not None:
            yield from file_findings(facts.header, facts.file.raw, profile)
        elif facts.error is not None and facts.damaged is not None:
            yield finding(facts.damaged, facts.file.raw, facts.error)
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
        "D121": dicomdir.d121_sop_class_in_table,
        "D124": dicomdir.d124_keys_match_files,
        "D126": dicomdir.d126_sequence_only,
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


def _candidates(snap: Snapshot) -> list[Profile]:
    """Profiles a medium of this kind, with these syntaxes and this size, could claim."""
    syntaxes = {f.header.transfer_syntax for f in snap.files if f.header is not None}
    family = "J2K" if syntaxes & _J2K else "JPEG"
    if snap.kind == "iso":
        names = ["STD-GEN-CD", f"STD-GEN-DVD-{family}"]
        if snap.iso is not None and snap.iso.udf:
            names.append(f"STD-GEN-BD-{family}")
    else:
        names = [f"STD-GEN-USB-{family}", "STD-GEN-CD"]
    profiles = [load_profile(n) for n in names]
    fitting = [
        p
        for p in profiles
        if syntaxes <= set(p.transfer_syntaxes)
        and (not p.capacity_bytes or snap.total_bytes <= p.capacity_bytes)
    ]
    return fitting or profiles


def guess_profile(snap: Snapshot) -> Profile:
    """The profile a medium most plausibly claims (PS3.11 gives no marker on the medium).

    Among the profiles its kind, transfer syntaxes and size admit (ISO image: CD,
    DVD, BD when it has UDF; folder or ZIP: USB, then CD), the one it breaks
    least, in that order on a tie; the caller reports the guess (V305).
    """
    return _guess(snap)[0]


def _guess(snap: Snapshot) -> tuple[Profile, tuple[Finding, ...]]:
    """:func:`guess_profile`, and the findings of the profile chosen (so they are not redone)."""
    candidates = _candidates(snap)
    runs = [run_checks(snap, p) for p in candidates]
    errors = [sum(f.severity is Severity.ERROR for f in found) for found in runs]
    best = errors.index(min(errors))
    return candidates[best], runs[best]


def run_checks(snap: Snapshot, profile: Profile) -> tuple[Finding, ...]:
    """Every registered check over one snapshot, medium-listing findings included."""
    found = list(snap.findings)
    with quiet_pydicom():
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
    An image or archive too damaged to list is one V308 finding, not an exception.

    Raises
    ------
    InputError
        When ``path`` does not exist or is no kind of medium.
    """
    try:
        with quiet_pydicom(), open_medium(path) as medium:
            # A profile given: only its checks run, so only what they read is kept.
            keywords = None if profile is None else keywords_for(profile)
            snap = take_snapshot(medium, expected=expected, keywords=keywords, progress=progress)
    except MediaError as exc:
        snap = unreadable_snapshot(str(path), medium_kind(path) or "dir")
        chosen = profile or load_profile("STD-GEN-CD")
        why = str(exc).removeprefix(f"{snap.label}: ")  # the finding's path names it
        return Report(chosen, profile is None, (finding("V308", snap.label, why),), snap)
    guessed = profile is None
    chosen, found = _guess(snap) if profile is None else (profile, run_checks(snap, profile))
    if guessed:
        found = (finding("V305", snap.label, chosen.id), *found)
    return Report(chosen, guessed, found, snap)
