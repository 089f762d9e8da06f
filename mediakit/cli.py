"""The command line: click commands, shared options, progress bars and exit codes.

The only module that imports click and tqdm, and the one boundary where
exceptions become one-line messages and exit codes (design.md):
0 done / no error findings, 1 error findings, 2 usage or unreadable input,
3 internal error (traceback only with ``MEDIAKIT_DEBUG=1``).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click
from tqdm import tqdm

from mediakit import __version__
from mediakit._types import Progress, Stages
from mediakit.errors import InputError, InternalError, MediaError, MediakitError
from mediakit.findings import CODES, Finding, Severity, has_errors, plural, sort_key, to_json
from mediakit.part10 import quiet_pydicom
from mediakit.profiles import base_record_keys, load_profile, profile_ids

if TYPE_CHECKING:
    from mediakit.importer.result import ImportResult

_EXIT_CODES: Final = ((InputError, 2), (MediaError, 1), (InternalError, 3))
_GC_THRESHOLDS: Final = (10_000, 50, 50)  # allocations before a young collection, then 50x, 50x


class _Boundary(click.Group):
    """Turns mediakit's exceptions into one line and an exit code; anything else is a bug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with quiet_pydicom():
                return super().invoke(ctx)
        except MediakitError as exc:
            click.echo(f"mediakit: {exc}", err=True)
            ctx.exit(next((c for k, c in _EXIT_CODES if isinstance(exc, k)), 3))
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:  # Ctrl-C: one line, the shell's code for SIGINT
            click.echo("mediakit: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # `mediakit ls x | head`: the reader left; say nothing more
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except Exception as exc:
            if os.environ.get("MEDIAKIT_DEBUG") == "1":
                raise
            click.echo(
                f"mediakit: internal error ({type(exc).__name__}: {exc}); "
                "rerun with MEDIAKIT_DEBUG=1 and report it",
                err=True,
            )
            ctx.exit(3)


@contextmanager
def _progress(label: str, *, show: bool, unit: str = "file") -> Iterator[Progress | None]:
    """A tqdm bar on stderr when it is a terminal and the user wants one; else nothing."""
    if not show or not sys.stderr.isatty():
        yield None
        return
    scale = unit == "B"
    with tqdm(desc=label, unit=unit, unit_scale=scale, file=sys.stderr, leave=False) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update


@contextmanager
def _stages(*, show: bool) -> Iterator[Stages | None]:
    """One tqdm bar per stage the library announces, each closed when the next one starts."""
    if not show or not sys.stderr.isatty():
        yield None
        return
    bars: list[tqdm[Any]] = []

    def stage(name: str) -> Progress:
        while bars:
            bars.pop().close()
        bar: tqdm[Any] = tqdm(desc=name, unit="file", file=sys.stderr, leave=False)
        bars.append(bar)

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return update

    try:
        yield stage
    finally:
        while bars:
            bars.pop().close()


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout (see README)."
)
quiet_option = click.option(
    "--quiet", "-q", is_flag=True, help="No progress bar and no finding lines, only the summary."
)
strict_option = click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")


_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _profile_option(default: str | None) -> _Decorator:
    return click.option(
        "--profile",
        "profile_id",
        default=default,
        show_default=default is not None,
        metavar="NAME",
        help="Application Profile (see 'mediakit profiles').",
    )


def _emit_findings(found: Sequence[Finding], *, quiet: bool) -> None:
    if not quiet:
        for f in sorted(found, key=sort_key):
            click.echo(f.line())


@click.group(cls=_Boundary, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mediakit")
def main() -> None:
    """Build, check and import DICOM interchange media (CD, DVD, USB), radiotherapy first.

    \b
    Examples:
      mediakit build export/ -o transfer.iso --profile STD-GEN-CD
      mediakit check transfer.iso
      mediakit ls /media/cdrom --json
      mediakit import /media/cdrom --to ~/dicom-store
      mediakit profiles STD-GEN-CD
    """
    # A command keeps the header of every instance until it ends: with the default
    # thresholds the cycle collector re-scans those long-lived objects again and again
    # (15 % of a 10k build, benchmarks/results.md). The process is ours: scan less often.
    gc.set_threshold(*_GC_THRESHOLDS)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="The image, folder or ZIP to create (never overwritten).",
)
@_profile_option("STD-GEN-CD")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["iso", "dir", "zip"]),
    default=None,
    help="Output format; default from the profile (CD/DVD/BD: iso, USB: dir).",
)
@click.option(
    "--volume-id",
    default=None,
    metavar="ID",
    help="Volume identifier = File-set ID (A-Z 0-9 _, 16 at most); default from the output name.",
)
@click.option("--no-fix", is_flag=True, help="Report what would be fixed as errors; write nothing.")
@click.option(
    "--with-references",
    is_flag=True,
    help="Files named are the selection; folders, ZIPs and media are searched only for the "
    "structure set, images and dose the selection needs.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Warnings about the content (e.g. a missing RT reference) are errors; write nothing.",
)
@click.option(
    "--no-pdi",
    is_flag=True,
    help="Leave out the IHE PDI content (README.TXT, INDEX.HTM, IHE_PDI/) CD/DVD/USB get.",
)
@click.option(
    "--deidentify",
    is_flag=True,
    help="De-identify every instance (PS3.15 Annex E), keeping the RT references intact.",
)
@click.option(
    "--keep-map",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="With --deidentify: write the original -> pseudonym mapping to FILE (not on the medium).",
)
@click.option(
    "--split",
    "split_volumes",
    is_flag=True,
    help="Content beyond the medium's capacity goes onto OUTPUT-1, OUTPUT-2, ... (studies whole).",
)
@json_option
@quiet_option
def build(
    inputs: tuple[Path, ...],
    output: Path,
    profile_id: str,
    fmt: str | None,
    volume_id: str | None,
    no_fix: bool,
    with_references: bool,
    strict: bool,
    no_pdi: bool,
    deidentify: bool,
    keep_map: Path | None,
    split_volumes: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Build a conformant medium from RT exports: files, folders, ZIPs or other media.

    Files are re-encoded for the profile where needed (never otherwise changed),
    missing DICOMDIR keys are filled and reported, and the result is read back
    and verified before it appears under OUTPUT.

    \b
    Examples:
      mediakit build export/ -o transfer.iso
      mediakit build plan.dcm ct/ -o usb --profile STD-GEN-USB-JPEG
      mediakit build export/ -o transfer.iso --no-fix --json
      mediakit build RP.dcm export/ --with-references --strict -o plan.iso
      mediakit build export/ -o trial.iso --deidentify --keep-map ~/trial-map.json
      mediakit build course/ -o course.iso --split
    """
    from mediakit.build import build_medium
    from mediakit.render import findings_doc, summary_line
    from mediakit.volumes import volumes_doc, volumes_text

    profile = load_profile(profile_id)
    with _progress("writing", show=not (quiet or as_json), unit="B") as progress:
        result = build_medium(
            list(inputs),
            output,
            profile,
            fmt=fmt,  # type: ignore[arg-type]
            volume_id=volume_id,
            fix=not no_fix,
            with_references=with_references,
            strict=strict,
            pdi_content=False if no_pdi else None,
            deidentify=deidentify,
            keep_map=keep_map,
            split_volumes=split_volumes,
            progress=progress,
        )
    found = list(result.findings)
    if as_json:
        doc = {
            "format": 1,
            "command": "build",
            "profile": profile.id,
            "output": str(result.output) if result.output else None,
            "output_format": result.format,
            "volume_id": result.volume_id,
            "instances": result.instances,
            "bytes": result.bytes,
            "rewritten": result.rewritten,
            "pdi": result.pdi,
            "deidentified": result.deidentified,
            "volumes": volumes_doc(result.volumes),
            **findings_doc(found, strict=False),
        }
        click.echo(to_json(doc))
    else:
        _emit_findings(found, quiet=quiet)
        click.echo(summary_line(profile.id, found, result.instances, strict=False, noun="instance"))
        if result.output and len(result.volumes) > 1:
            for line in volumes_text(result.volumes, result.format):
                click.echo(line)
        elif result.output:
            click.echo(
                f"wrote {result.output} ({result.format}, volume {result.volume_id}, "
                f"{plural(result.instances, 'instance')}, {result.rewritten} re-encoded); "
                "read back and verified"
            )
        else:
            click.echo(f"nothing written: fix the errors above{_drop_hint(found, no_fix, strict)}")
    sys.exit(1 if has_errors(found) else 0)


def _drop_hint(found: Sequence[Finding], no_fix: bool, strict: bool) -> str:
    """' (or drop --strict)' when an error is only one because of a flag the user gave."""
    given = [flag for flag, on in (("--no-fix", no_fix), ("--strict", strict)) if on]
    promoted = any(
        f.severity is Severity.ERROR and CODES[f.code].severity is not Severity.ERROR for f in found
    )
    return f" (or drop {', '.join(given)})" if given and promoted else ""


@main.command()
@click.argument("media", type=click.Path(path_type=Path))
@_profile_option(None)
@json_option
@strict_option
@quiet_option
def check(media: Path, profile_id: str | None, as_json: bool, strict: bool, quiet: bool) -> None:
    """Check a medium against its Application Profile: coded findings, one per line.

    MEDIA is an .iso image (read directly, never mounted), a folder, a DICOMDIR
    or a .zip. Without --profile the profile is guessed and the guess reported.

    \b
    Examples:
      mediakit check transfer.iso
      mediakit check /media/cdrom --profile STD-GEN-CD --strict
      mediakit check usb/DICOMDIR --json
    """
    from mediakit.check.runner import check_medium
    from mediakit.render import check_doc, summary_line

    profile = load_profile(profile_id) if profile_id else None
    with _progress("reading", show=not (quiet or as_json)) as progress:
        report = check_medium(media, profile, progress=progress)
    if as_json:
        click.echo(to_json(check_doc(report, strict=strict)))
    else:
        _emit_findings(report.findings, quiet=quiet)
        files = len(report.snapshot.files) + (report.snapshot.dicomdir is not None)
        click.echo(summary_line(report.profile.id, report.findings, files, strict=strict))
    sys.exit(1 if has_errors(report.findings, strict=strict) else 0)


@main.command("ls")
@click.argument("media", type=click.Path(path_type=Path))
@json_option
def ls_command(media: Path, as_json: bool) -> None:
    """List a medium: Patient > Study > Series with record types and counts.

    \b
    Examples:
      mediakit ls transfer.iso
      mediakit ls /media/cdrom --json
    """
    from mediakit.check.snapshot import take_snapshot
    from mediakit.media import open_medium
    from mediakit.render import ls_doc, ls_json, ls_text

    with open_medium(media) as medium:
        snap = take_snapshot(medium)
    doc = ls_doc(snap)
    if as_json:
        click.echo(ls_json(doc))
    else:
        for line in ls_text(doc):
            click.echo(line)


@main.command("import")
@click.argument("media", type=click.Path(path_type=Path))
@click.option(
    "--to",
    "store",
    type=click.Path(path_type=Path),
    default=None,
    metavar="STORE_DIR",
    help="Local store folder (created if missing; files laid out by UIDs, SQLite index).",
)
@click.option("--pacs", default=None, metavar="AET@HOST:PORT", help="Send by C-STORE to a PACS.")
@click.option(
    "--calling-aet", default=None, metavar="NAME", help="Our AE title for --pacs (MEDIAKIT)."
)
@json_option
@quiet_option
def import_command(
    media: Path,
    store: Path | None,
    pacs: str | None,
    calling_aet: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Import every readable instance of a medium into a local store or a PACS.

    Instances are found through the DICOMDIR and by scanning. Re-running is a
    no-op for what is already there; different content under a stored SOP
    Instance UID is kept aside as a conflict, never overwritten. Exit 1 when
    anything was not taken.

    \b
    Examples:
      mediakit import /media/cdrom --to ~/dicom-store
      mediakit import transfer.iso --pacs ORTHANC@pacs.local:4242 --calling-aet RTPLAN1
      mediakit import usb/DICOMDIR --to store --json
    """
    from mediakit.importer import Interrupted, import_to_pacs, import_to_store
    from mediakit.importer.pacs import parse_address

    if (store is None) == (pacs is None):
        raise click.UsageError("give exactly one of --to STORE_DIR and --pacs AET@HOST:PORT")
    if calling_aet is not None and pacs is None:
        raise click.UsageError("--calling-aet goes with --pacs")
    address = parse_address(pacs) if pacs is not None else None
    try:
        with _stages(show=not (quiet or as_json)) as stages:
            if address is None:
                assert store is not None
                result = import_to_store(media, store, stages=stages)
            else:
                result = import_to_pacs(
                    media, address, calling_aet=calling_aet or "MEDIAKIT", stages=stages
                )
    except Interrupted as stopped:
        if as_json and stopped.result is not None:
            doc = _import_doc(stopped.result)
            doc["status"] = "interrupted"
            click.echo(to_json(doc))
        done = stopped.result.summary() if stopped.result is not None else None
        so_far = f" after {done['imported']} imported" if done else ""
        where = "import again to complete" if store is not None else "send again to complete"
        click.echo(f"mediakit: interrupted{so_far}; {where}", err=True)
        sys.exit(130)
    found = list(result.all_findings)
    failed = not result.complete or has_errors(found)
    summary = result.summary()
    if as_json:
        doc = _import_doc(result)
        doc["status"] = "fail" if failed else "pass"
        click.echo(to_json(doc))
    else:
        _emit_findings(found, quiet=quiet)
        labels = (
            {"imported": "imported", "already_present": "already present"}
            if result.target == "store"
            else {"imported": "stored", "failed": "failed"}
        )
        counted = [f"{summary[key]} {label}" for key, label in labels.items()]
        if result.target == "store":
            counted.append(plural(summary["conflict"], "conflict"))
        else:  # one send per SOP Instance UID: the copies are counted only when there are any
            counted += [f"{summary['already_present']} already sent"] * bool(
                summary["already_present"]
            )
            counted += [plural(summary["conflict"], "conflict")] * bool(summary["conflict"])
        counted += [f"{summary['unreadable']} unreadable", f"{summary['refused']} refused"]
        outcome = "FAILED" if failed else "OK"
        click.echo(f"import into {result.destination}: {', '.join(counted)} ({outcome})")
    sys.exit(1 if failed else 0)


def _import_doc(result: ImportResult) -> dict[str, Any]:
    """The JSON document of an import (README, JSON output), without its status."""
    from mediakit.render import findings_doc

    return {
        "format": 1,
        "command": "import",
        "medium": result.medium,
        "kind": result.kind,
        "volume_id": result.volume_id,
        "target": result.target,
        "destination": result.destination,
        "summary": result.summary(),
        "instances": [r.as_dict() for r in result.instances],
        **findings_doc(list(result.all_findings), strict=False),
    }


@main.command()
@click.argument("name", required=False)
def profiles(name: str | None) -> None:
    """List the Application Profiles, or show one.

    \b
    Examples:
      mediakit profiles
      mediakit profiles STD-GEN-USB-JPEG
    """
    if name is None:
        for pid in profile_ids():
            p = load_profile(pid)
            click.echo(f"{p.id:<18} {p.medium:<18} {p.default_format:<4} {p.title}")
        return
    p = load_profile(name)
    click.echo(f"{p.id}: {p.title}")
    click.echo(f"  source:            {p.annex}, edition {p.edition}")
    click.echo(f"  medium:            {p.medium}")
    click.echo(f"  file system:       {p.filesystem}")
    click.echo(f"  medium may carry:  {' or '.join(p.medium_filesystems)}")
    click.echo(f"  default format:    {p.default_format}")
    cap = f"{p.capacity_bytes:,} bytes" if p.capacity_bytes else "set by the medium"
    click.echo(f"  capacity:          {cap}")
    click.echo(f"  transfer syntaxes: {', '.join(p.transfer_syntaxes)}")
    click.echo(f"  FSU role defined:  {'yes' if p.fsu else 'no'}")
    click.echo("  DICOMDIR keys added by this profile (beyond PS3.3 Annex F):")
    base = base_record_keys()
    for rtype, keys in sorted(p.record_keys.items()):
        known = base[rtype].all() if rtype in base else ()
        extra = [k for k in keys.all() if k not in known]
        if extra:
            click.echo(f"    {rtype}: {', '.join(extra)}")
