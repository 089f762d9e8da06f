"""V rules: the volume and its file system against the profile's medium (PS3.12)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from mediakit.check.snapshot import Snapshot
from mediakit.findings import Finding, finding
from mediakit.profiles import Profile

# ISO 9660 Level 1: directories 1-8 d-characters; files 8.3 with version (PS3.12 F.3).
_L1_DIR: Final = re.compile(r"^[A-Z0-9_]{1,8}$")
_L1_FILE: Final = re.compile(r"^[A-Z0-9_]{1,8}\.[A-Z0-9_]{0,3};[0-9]+$")


def v301_iso_level1_names(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Every name on an ISO 9660 Level 1 profile's image is a Level 1 name (PS3.12 F.3)."""
    if snap.kind != "iso" or not profile.filesystem.startswith("iso9660-level1"):
        return
    names = [f.file.raw for f in snap.files] + ([snap.dicomdir.raw] if snap.dicomdir else [])
    for raw in names:
        *dirs, name = raw.strip("/").split("/")
        if not _L1_FILE.match(name) or not all(_L1_DIR.match(d) for d in dirs):
            yield finding("V301", raw)


def v302_volume_id_is_fileset_id(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """On an ISO image the Volume Identifier equals the File-set ID (PS3.12 F.3)."""
    if snap.kind == "iso" and snap.directory is not None:
        fsid = snap.directory.fileset_id.strip()
        if (snap.volume_id or "").strip() != fsid:
            yield finding("V302", snap.label, f"volume {snap.volume_id!r}, File-set {fsid!r}")


def v303_capacity(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """The medium's content fits the profile's medium (PS3.12)."""
    if profile.capacity_bytes and snap.total_bytes > profile.capacity_bytes:
        yield finding(
            "V303",
            snap.label,
            f"{snap.total_bytes:,} bytes, {profile.medium} holds {profile.capacity_bytes:,}",
        )


def v304_medium_kind(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """An image for a disc profile, a folder for a USB profile, and an image's file systems
    among those the profile's medium may carry (``medium_filesystems``; PS3.11; PS3.12)."""
    wanted = profile.default_format
    if snap.kind != wanted and not (snap.kind == "zip" and wanted == "dir"):
        yield finding(
            "V304", snap.label, f"a {snap.kind} checked against {profile.id} ({profile.medium})"
        )
        return
    if snap.kind != "iso" or snap.iso is None:
        return  # a folder's or an archive's file system is not the medium's to tell
    present = ["iso9660", *(["udf"] if snap.iso.udf else [])]
    if not set(present) & set(profile.medium_filesystems):
        yield finding(
            "V304",
            snap.label,
            f"the image has {' + '.join(present)}; {profile.id} ({profile.medium}) needs "
            f"{' or '.join(profile.medium_filesystems)}",
        )


def v306_manifest(snap: Snapshot, profile: Profile) -> Iterator[Finding]:
    """Every file's SHA-256 equals the manifest's, and no file is missing or extra.

    The manifest is the one ``build`` verifies against, or the medium's own
    ``SHA256.TXT`` (mediakit's integrity record, not a DICOM rule).
    """
    if snap.expected is None:
        return
    got = {f.file.parts: f.sha256 for f in snap.files if f.file != snap.manifest}
    if snap.dicomdir is not None:
        got[snap.dicomdir.parts] = snap.dicomdir_sha256
    listed: set[tuple[str, ...]] = set()
    for fid, sha in sorted(snap.expected.items()):
        # The name as the medium spells it: lowercase, ';1' (Joliet, Linux mounts), as the
        # reader resolves a Referenced File ID; exactly when the snapshot did not resolve it.
        f = snap.located.get(fid)
        parts = f.parts if f is not None else tuple(fid.split("/"))
        if parts not in got:
            yield finding("V306", fid, "missing from the medium")
            continue
        listed.add(parts)
        if got[parts] != sha:
            yield finding("V306", fid, f"SHA-256 {got[parts]} expected {sha}")
    for parts in sorted(set(got) - listed):
        yield finding("V306", "/".join(parts), "on the medium but not in the manifest")
