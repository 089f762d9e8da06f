"""Build a medium: collect -> (de-identify) -> normalise -> lay out -> (split) -> write -> verify.

Each stage returns frozen data; the only side effects are the staging folder
(re-encoded or de-identified files, the DICOMDIR, the PDI pages) and the
outputs, which appear under their final names only after a fresh reader has
checked each of them and every file's SHA-256 matched (:mod:`mediakit.volumes`).
De-identification is :mod:`mediakit.deid`, the split :mod:`mediakit.split`,
the IHE PDI content :mod:`mediakit.pdi`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, ParamSpec, TypeVar

from mediakit import IMPLEMENTATION_CLASS_UID, __version__, deid, pdi, rt, split
from mediakit._types import Progress
from mediakit.check.part10 import FIXABLE, file_findings
from mediakit.check.rt import rt_findings
from mediakit.check.runner import Report, check_medium
from mediakit.dicomdir.layout import Layout, Placed, all_keywords, lay_out
from mediakit.errors import InputError, InternalError, os_reason
from mediakit.findings import Finding, Severity, finding, has_errors
from mediakit.inputs import Collected, Instance, collect
from mediakit.iso import Entry
from mediakit.part10 import Header, copy_file, rewrite, target_syntax
from mediakit.profiles import Profile
from mediakit.volumes import (
    Target,
    Written,
    staging_folder,
    volume_outputs,
    writable,
    write_volumes,
)

Format = Literal["iso", "dir", "zip"]
# The volume id is the ISO 9660 Volume Identifier, d-characters only (ECMA-119 §7.4.1:
# A-Z 0-9 _; no space), and the File-set ID (PS3.10 §8.2): 1 to 16 of them.
_VOLUME_ID = re.compile(r"[A-Z0-9_]{1,16}")
# Findings that report a fix the builder made: --no-fix, not --strict, decides about them.
# X701 and X703 are changes --deidentify asked for (identity in free text, RT labels replaced).
_FIX_CODES = FIXABLE | {"D122", "X701", "X703"}


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
    manifest: tuple[tuple[str, str], ...]  # (File ID as A/B/C, SHA-256); first volume's
    findings: tuple[Finding, ...]
    verify: Report | None  # the first volume's
    volumes: tuple[Written, ...] = ()  # every volume written (one unless --split split it)
    deidentified: bool = False
    pdi: bool = False


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


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _disk_errors(build: Callable[_P, _R]) -> Callable[_P, _R]:
    """An OSError while staging (the temporary folder's disk is full) is one InputError."""

    @functools.wraps(build)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return build(*args, **kwargs)
        except OSError as exc:
            out = kwargs.get("out", args[1] if len(args) > 1 else "build")
            where = f" (writing {exc.filename})" if exc.filename else ""
            raise InputError(f"{out}: cannot build: {os_reason(exc)}{where}") from None

    return run


@_disk_errors
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
    pdi_content: bool | None = None,
    deidentify: bool = False,
    keep_map: Path | None = None,
    split_volumes: bool = False,
    secret: str | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build a conformant medium from ``sources`` at ``out`` (several with ``split_volumes``).

    With ``with_references``, files named in ``sources`` are the selection and
    folders, ZIPs and media are pools: only the selection and what it needs
    (:func:`mediakit.rt.with_references`) go onto the medium. With ``strict``,
    warnings about the content (R rules, skipped files) are errors; fixes stay
    warnings (``fix=False`` makes them errors). ``pdi_content`` (default: the
    profile's medium is one IHE PDI defines) adds README.TXT, INDEX.HTM and
    IHE_PDI/. ``deidentify`` de-identifies every instance first
    (:func:`mediakit.deid.deidentify`, seeded by ``secret``) and ``keep_map``
    writes the mapping there. ``split_volumes``: content beyond the profile's
    capacity goes onto ``OUT-1``, ``OUT-2``, ... (:func:`mediakit.split.plan_volumes`).

    Raises
    ------
    InputError
        Missing inputs, a named file that is not DICOM, an existing or unwritable output,
        a bad volume id, ``with_references`` without a named file, ``keep_map`` without
        ``deidentify``, existing or inside an output.
    InternalError
        A medium just written does not pass its own check; de-identification broke an
        RT reference.
    """
    fmt = fmt or profile.default_format
    vid = (volume_id if volume_id is not None else default_volume_id(out)).upper()
    if not _VOLUME_ID.fullmatch(vid):
        raise InputError(
            f"--volume-id {volume_id!r}: 1 to 16 characters of A-Z 0-9 _ "
            "(ISO 9660 d-characters; no spaces)"
        )
    writable(out)
    if keep_map is not None:
        if not deidentify:
            raise InputError("--keep-map: only with --deidentify (there is no mapping otherwise)")
        deid.check_map_path(keep_map, [out])
    with_pdi = pdi.applies(profile) if pdi_content is None else pdi_content

    with staging_folder(out) as staging:
        keywords = (*all_keywords(profile), *rt.KEYWORDS, *pdi.KEYWORDS, *deid.KEYWORDS)
        collected = collect(sources, staging / "in", keywords=keywords)
        if not collected.instances and not has_errors(collected.findings):
            raise InputError(f"{', '.join(map(str, sources))}: no DICOM instances found")
        if with_references:
            collected = select_with_references(collected)
        normal, norm_found = normalise(collected, profile, staging, fix=fix)
        anonymised = None
        if deidentify and not has_errors(norm_found):  # before the layout: keys, pages, all
            anonymised = deid.deidentify(
                Collected(tuple(replace(n.instance, path=n.source) for n in normal), ()),
                staging / "deid",
                profile,
                keywords=keywords,
                secret=secret,
            )
            after = anonymised.collected.instances
            normal = [_deidentified(n, i) for n, i in zip(normal, after, strict=True)]
            collected = Collected(anonymised.collected.instances, collected.findings)
        placed = [Placed(_header(n), n.transfer_syntax, n.instance.label) for n in normal]
        layout = lay_out(placed, profile, fix=fix)
        sizes = [n.size for n in normal]
        capacity = profile.capacity_bytes if split_volumes else 0
        plan = split.plan_volumes([n.instance.header.keys for n in normal], sizes, capacity)
        found = [
            *collected.findings,
            *(anonymised.findings if anonymised else ()),
            *norm_found,
            *layout.findings,
            *plan.findings,
            *(() if split_volumes else split.capacity_findings(profile, sizes)),
            *rt_findings((i.label, i.header.keys) for i in collected.instances),
        ]
        if strict:
            found = [_strictly(f) for f in found]
        result = BuildResult(
            None,
            fmt,
            vid,
            len(normal),
            sum(sizes),
            sum(n.rewritten for n in normal),
            (),
            tuple(found),
            None,
            deidentified=deidentify,
            pdi=with_pdi,
        )
        if has_errors(found):  # nothing is written: nothing was re-encoded onto a medium
            return replace(result, bytes=0, rewritten=0)
        outputs = volume_outputs(out, len(plan.volumes))
        for path in outputs:
            writable(path)
        if keep_map is not None:
            deid.check_map_path(keep_map, outputs)
        targets = _targets(plan, outputs, normal, layout, placed, profile, vid, deidentify)
        mapping = (keep_map, anonymised.mapping()) if keep_map and anonymised else None
        # Every collected header: write_volumes drops the targets' too before it verifies,
        # which reads each header again from the medium (a 50k build: 2.1 -> 1.3 GB peak).
        del collected, normal, placed, layout, plan, anonymised
        written = write_volumes(
            targets,
            staging,
            profile,
            fmt,
            verify=check_medium,
            with_pdi=with_pdi,
            keep_map=mapping,
            progress=progress,
        )
    first = written[0]
    return replace(
        result,
        output=first.output,
        manifest=first.manifest,
        verify=first.verify,
        volumes=tuple(written),
    )


def _targets(
    plan: split.Plan,
    outputs: Sequence[Path],
    normal: Sequence[Normalised],
    layout: Layout,
    placed: Sequence[Placed],
    profile: Profile,
    vid: str,
    deidentified: bool,
) -> list[Target]:
    """What goes onto each volume: its own layout (the whole one when there is one volume)."""
    several = len(outputs) > 1
    ids = [split.volume_id(vid, n) if several else vid for n in range(1, len(outputs) + 1)]
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    targets = []
    for n, (volume, out) in enumerate(zip(plan.volumes, outputs, strict=True)):
        mine = lay_out([placed[i] for i in volume.members], profile) if several else layout
        chosen = [normal[i] for i in volume.members]
        info = pdi.MediumInfo(
            ids[n], profile, f"mediakit {__version__}", IMPLEMENTATION_CLASS_UID, created,
            n + 1, len(outputs), deidentified, tuple(i for i in ids if i != ids[n]),
        )  # fmt: skip
        files = []
        for m, fid in zip(chosen, mine.file_ids, strict=True):
            if fid is None:
                raise InternalError(f"{m.instance.label}: placed without a File ID")
            files.append(Entry(fid, m.source, m.size))
        headers = {m.instance.header.sop_instance_uid: m.instance.header.keys for m in chosen}
        targets.append(Target(out, info, mine.roots, tuple(files), headers, volume.parts))
    return targets


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


def _deidentified(n: Normalised, inst: Instance) -> Normalised:
    """The instance as de-identified (re-encoded again, in the same syntax)."""
    return Normalised(inst, inst.path, inst.header.size, inst.header.transfer_syntax, True)


__all__ = [
    "BuildResult",
    "Written",
    "build_medium",
    "copy_file",
    "default_volume_id",
    "normalise",
    "select_with_references",
    "volume_outputs",
]
