"""Build a medium: collect -> normalise -> lay out -> write -> read back and verify.

Each stage returns frozen data; the only side effects are the staging folder
(re-encoded files, the DICOMDIR) and the output, which appears under its final
name only after a fresh reader has checked it and every file's SHA-256 matched.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydicom.uid import generate_uid

from mediakit import rt
from mediakit._types import Progress
from mediakit.check.part10 import FIXABLE, file_findings
from mediakit.check.rt import rt_findings
from mediakit.check.runner import Report, check_medium
from mediakit.dicomdir.encode import encode_dicomdir
from mediakit.dicomdir.layout import Layout, Placed, all_keywords, lay_out
from mediakit.errors import InputError, InternalError
from mediakit.findings import Finding, Severity, finding, has_errors
from mediakit.inputs import Collected, Instance, collect
from mediakit.iso import Entry
from mediakit.manifest import MANIFEST_NAME, format_manifest
from mediakit.media import write_medium
from mediakit.part10 import Header, copy_file, rewrite, sha256_of, target_syntax
from mediakit.profiles import Profile

Format = Literal["iso", "dir", "zip"]
_FILESET_ID = re.compile(r"^[A-Z0-9_ ]{0,16}$")  # PS3.3 F.3.2.1, PS3.12 F: also the volume id
# DICOMDIR, directory records and ISO 9660 structures: a generous allowance per file and volume.
_OVERHEAD_PER_FILE = 2048 + 512
_OVERHEAD_PER_VOLUME = 1 << 20
# Findings that report a fix the builder made: --no-fix, not --strict, decides about them.
_FIX_CODES = FIXABLE | {"D122"}


@dataclass(frozen=True, slots=True)
class Normalised:
    """One instance ready to place: the bytes to write and their header."""

    instance: Instance
    source: Path  # the original file when it conforms, else the re-encoded copy
    size: int
    transfer_syntax: str
    rewritten: bool


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build made (``output`` is None when it stopped on error findings)."""

    output: Path | None
    format: Format
    volume_id: str
    instances: int
    bytes: int
    rewritten: int
    manifest: tuple[tuple[str, str], ...]  # (File ID as A/B/C, SHA-256)
    findings: tuple[Finding, ...]
    verify: Report | None


def default_volume_id(out: Path) -> str:
    """The output's name, uppercased to A-Z 0-9 _, at most 16 characters (or MEDIAKIT)."""
    stem = re.sub(r"[^A-Z0-9_]", "_", out.name.split(".")[0].upper())[:16].strip("_")
    return stem or "MEDIAKIT"


def normalise(
    collected: Collected, profile: Profile, staging: Path, *, fix: bool
) -> tuple[list[Normalised], list[Finding]]:
    """Decide per instance: copy the bytes as they are, or re-encode for the profile."""
    out: list[Normalised] = []
    found: list[Finding] = []
    for n, inst in enumerate(collected.instances):
        h = inst.header
        problems = list(file_findings(h, inst.label, profile))
        hard = [f for f in problems if f.code not in FIXABLE]
        ts = target_syntax(h, profile.transfer_syntaxes)
        if ts is None:
            hard.append(
                finding(
                    "P105",
                    inst.label,
                    f"{h.transfer_syntax}: cannot be transcoded "
                    "without decompressing; decompress it first",
                )
            )
        fixable = [f for f in problems if f.code in FIXABLE]
        found.extend(hard)
        if hard or ts is None:
            continue
        severity = Severity.WARNING if fix else Severity.ERROR
        done = f"(re-encoded as {ts})" if fix else "(would be re-encoded; --no-fix)"
        found.extend(
            Finding(f.code, severity, f.path, f"{f.message} {done}", f.ref) for f in fixable
        )
        if h.conforms(profile.transfer_syntaxes):
            out.append(Normalised(inst, inst.path, h.size, ts, rewritten=False))
        elif fix:
            dst = staging / f"re{n:08d}"
            size, _ = rewrite(inst.path, dst, h, ts)
            out.append(Normalised(inst, dst, size, ts, rewritten=True))
        else:  # --no-fix: nothing is written, but the layout still reports its fills
            out.append(Normalised(inst, inst.path, h.size, ts, rewritten=True))
    return out, found


def _capacity(profile: Profile, normal: Sequence[Normalised]) -> list[Finding]:
    if not profile.capacity_bytes:
        return []
    need = sum(n.size + _OVERHEAD_PER_FILE for n in normal) + _OVERHEAD_PER_VOLUME
    if need <= profile.capacity_bytes:
        return []
    return [
        finding(
            "V303",
            "(input)",
            f"about {need:,} bytes for a {profile.medium} of {profile.capacity_bytes:,} bytes; "
            "use a larger profile (e.g. STD-GEN-DVD-JPEG) or fewer inputs",
        )
    ]


def build_medium(
    sources: Sequence[Path],
    out: Path,
    profile: Profile,
    *,
    fmt: Format | None = None,
    volume_id: str | None = None,
    fix: bool = True,
    with_references: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Build a conformant medium from ``sources`` at ``out``.

    With ``with_references``, files named in ``sources`` are the selection and
    folders, ZIPs and media are pools: only the selection and what it needs
    (:func:`mediakit.rt.with_references`) go onto the medium. With ``strict``,
    warnings about the content (R rules, skipped files) are errors; fixes stay
    warnings (``fix=False`` makes them errors).

    Raises
    ------
    InputError
        Missing inputs, a named file that is not DICOM, an existing or unwritable output,
        a bad volume id, ``with_references`` without a named file.
    InternalError
        The medium just written does not pass its own check.
    """
    fmt = fmt or profile.default_format
    vid = (volume_id if volume_id is not None else default_volume_id(out)).upper()
    if not _FILESET_ID.match(vid):
        raise InputError(f"--volume-id {volume_id!r}: at most 16 characters of A-Z 0-9 _ space")
    if out.exists() or out.is_symlink():
        raise InputError(f"{out}: already exists; mediakit never overwrites (remove it first)")
    parent = out.parent.resolve()
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise InputError(f"{out}: cannot write into {parent} (missing or not writable)")

    with tempfile.TemporaryDirectory(prefix="mediakit-") as tmp:
        staging = Path(tmp)
        keywords = (*all_keywords(profile), *rt.KEYWORDS)
        collected = collect(sources, staging / "in", keywords=keywords)
        if not collected.instances and not has_errors(collected.findings):
            raise InputError(f"{', '.join(map(str, sources))}: no DICOM instances found")
        if with_references:
            collected = select_with_references(collected)
        normal, norm_found = normalise(collected, profile, staging, fix=fix)
        placed = [Placed(_header(n), n.transfer_syntax, n.instance.label) for n in normal]
        layout = lay_out(placed, profile, fix=fix)
        found = [*collected.findings, *norm_found, *layout.findings, *_capacity(profile, normal)]
        found += rt_findings((i.label, i.header.keys) for i in collected.instances)
        if strict:
            found = [_strictly(f) for f in found]
        total = sum(n.size for n in normal)
        if has_errors(found):
            return BuildResult(
                None,
                fmt,
                vid,
                len(normal),
                total,
                sum(n.rewritten for n in normal),
                (),
                tuple(found),
                None,
            )
        entries = _entries(normal, layout, staging, vid)
        manifest = tuple(("/".join(e.file_id), sha256_of(e.source)) for e in entries)
        entries.append(_manifest_entry(manifest, staging))
        instances, rewritten = len(normal), sum(n.rewritten for n in normal)
        del collected, normal, placed, layout  # every header: verify reads its own, afresh
        partial = parent / f".{out.name}.partial-{os.getpid()}"
        try:
            write_medium(
                entries,
                partial,
                fmt=fmt,
                volume_id=vid,
                udf=profile.filesystem.startswith("udf"),
                progress=progress,
            )
            report = check_medium(partial, profile, expected=dict(manifest))
            if has_errors(report.findings):
                first = next(f for f in report.findings if f.severity is Severity.ERROR)
                raise InternalError(f"{out}: the medium fails its own check ({first.line()})")
            os.replace(partial, out)
        finally:
            _remove(partial)
    return BuildResult(
        out,
        fmt,
        vid,
        instances,
        total,
        rewritten,
        manifest,
        tuple(found),
        report,
    )


def select_with_references(collected: Collected) -> Collected:
    """The named instances and what they need from the pools (``--with-references``).

    Raises
    ------
    InputError
        When no file was named: there is nothing to start from.
    """
    named = {i.header.sop_instance_uid for i in collected.instances if i.named}
    if not named:
        raise InputError(
            "--with-references: name at least one file (the plan) on the command line; "
            "folders, ZIPs and media are only searched for what it references"
        )
    graph = rt.build_graph((i.label, i.header.keys) for i in collected.instances)
    keep = rt.with_references(graph, named)
    chosen = tuple(i for i in collected.instances if i.header.sop_instance_uid in keep)
    return Collected(chosen, collected.findings)


def _strictly(f: Finding) -> Finding:
    """--strict: a warning about the content becomes an error (fixes are --no-fix's)."""
    if f.severity is not Severity.WARNING or f.code in _FIX_CODES:
        return f
    return Finding(f.code, Severity.ERROR, f.path, f"{f.message} (--strict)", f.ref)


def _header(n: Normalised) -> Header:
    return n.instance.header


def _manifest_entry(manifest: Sequence[tuple[str, str]], staging: Path) -> Entry:
    """``SHA256.TXT`` in the root: every other file's SHA-256 (see mediakit.manifest)."""
    path = staging / MANIFEST_NAME
    path.write_bytes(format_manifest(manifest))
    return Entry((MANIFEST_NAME,), path, path.stat().st_size)


def _entries(normal: Sequence[Normalised], layout: Layout, staging: Path, vid: str) -> list[Entry]:
    """The files of the medium: the DICOMDIR first, then every instance at its File ID."""
    uids = [n.instance.header.sop_instance_uid for n in normal]
    fileset_uid = generate_uid(entropy_srcs=["mediakit-fileset", vid, *uids])
    dicomdir = staging / "DICOMDIR"
    dicomdir.write_bytes(encode_dicomdir(layout.roots, fileset_id=vid, fileset_uid=fileset_uid))
    entries = [Entry(("DICOMDIR",), dicomdir, dicomdir.stat().st_size)]
    for n, fid in zip(normal, layout.file_ids, strict=True):
        if fid is None:
            raise InternalError(f"{n.instance.label}: placed without a File ID")
        entries.append(Entry(fid, n.source, n.size))
    return entries


def _remove(path: Path) -> None:
    """Remove a partial output (file or folder) if it is there."""
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


__all__ = [
    "BuildResult",
    "build_medium",
    "copy_file",
    "default_volume_id",
    "normalise",
    "select_with_references",
]
