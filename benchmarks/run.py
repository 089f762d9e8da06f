"""Benchmarks: mediakit against what a user would otherwise run, on the same data, in one run.

``python -m benchmarks.run [--tiers 1k,10k] [--matrix 64] [--repeat 1] [--dvd-gb 1,4.7]``

Data come from the fixtures generator (``fixtures/rtcourse.py``): patients of
193 CT slices and 7 RT objects (200 instances each), generated once into
``benchmarks/work/`` (git-ignored) and reused; a tier of N instances is the
first N/200 patients. Every measured command runs in a fresh process whose
wall time and peak RSS (``RUSAGE_CHILDREN``, so that process and its children)
are recorded; with ``--repeat`` the fastest run counts. The page cache is warm
for both sides of every comparison (the data were just generated or read).

The table of ratios is printed and written, with the machine and the date, to
``benchmarks/results.md``. For every target that is missed, the mediakit side
is run once more under cProfile and the top of the profile goes into the
results, so what bounds it is measured, not guessed (``--no-profile`` skips).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import pstats
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOUNDS = HERE / "bounds.md"
REPO = HERE.parent
PER_PATIENT_SLICES = 193
RT_OBJECTS = 7  # RT Structure Set, Plan, Ion Plan, Dose, Record, Registration, RT Image
DVD_PROFILE = "STD-GEN-DVD-JPEG"
DVD_CAPACITY = 4_700_372_992  # profiles/STD-GEN-DVD-JPEG.toml
TOOLS = ("dcmmkdir", "genisoimage", "bsdtar", "sha256sum", "cat", "sync", "xargs")

# Runs argv[1:] as a child and reports its wall time and the peak RSS of the child
# (and of every process it waited for): a fresh interpreter per measurement.
_PROBE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
run = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.perf_counter() - t
print(json.dumps({"rc": run.returncode, "wall": wall,
                  "rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "out": run.stdout.decode(errors="replace")[-4000:],
                  "err": run.stderr.decode(errors="replace")[-4000:]}))
"""


@dataclass
class Measured:
    """One command (or pipeline of commands): fastest wall time, peak RSS over the runs."""

    wall: float
    rss_kib: int
    out: str = ""

    def cell(self) -> str:
        return f"{_seconds(self.wall)}, {self.rss_kib / 1024:.0f} MiB"


@dataclass
class Row:
    """One line of the results table."""

    measure: str
    mediakit: str
    reference: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""
    profile_cmd: list[str] | None = field(default=None, repr=False)
    profile: str = ""

    def status(self) -> str:
        return "n/a" if self.met is None else ("yes" if self.met else "**no**")

    def ratio_text(self) -> str:
        return "n/a" if self.ratio is None else f"{self.ratio:.2f}×"


def _seconds(s: float) -> str:
    return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def mediakit(*args: object) -> list[str]:
    return [sys.executable, "-m", "mediakit", *map(str, args)]


def step(*args: object) -> list[str]:
    return [sys.executable, "-m", "benchmarks.steps", *map(str, args)]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def probe(cmd: Sequence[str], *, cwd: Path | None = None) -> Measured:
    """Run one command in a fresh probe process; raise with its stderr if it fails."""
    got = subprocess.run(
        [sys.executable, "-c", _PROBE, *cmd],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(got.stdout)
    if res["rc"] != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {res['rc']}\n{res['err']}{res['out']}")
    return Measured(res["wall"], res["rss_kib"], res["out"])


def measure(
    steps: Sequence[tuple[Sequence[str], Path | None]],
    *,
    repeat: int,
    setup: Callable[[], None] | None = None,
) -> Measured:
    """A pipeline of commands run ``repeat`` times: the fastest total, the peak RSS of any step."""
    best: Measured | None = None
    peak = 0
    for _ in range(repeat):
        if setup is not None:
            setup()
        runs = [probe(cmd, cwd=cwd) for cmd, cwd in steps]
        total = Measured(sum(r.wall for r in runs), max(r.rss_kib for r in runs), runs[-1].out)
        peak = max(peak, total.rss_kib)
        if best is None or total.wall < best.wall:
            best = total
    assert best is not None
    return Measured(best.wall, peak, best.out)


def fresh(*paths: Path) -> Callable[[], None]:
    """A setup that removes outputs of a previous run."""

    def remove() -> None:
        for p in paths:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()

    return remove


# --- data ------------------------------------------------------------------------------------


def parse_tier(text: str) -> int:
    """'1k' -> 1000, '50k' -> 50000, '30' -> 30."""
    text = text.strip().lower()
    n = int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)
    if n < RT_OBJECTS + 1:
        raise argparse.ArgumentTypeError(f"a tier needs at least {RT_OBJECTS + 1} instances")
    return n


def tier_shape(n: int) -> tuple[int, int]:
    """(patients, CT slices per patient) for about n instances."""
    per = PER_PATIENT_SLICES + RT_OBJECTS
    if n < per:
        return 1, n - RT_OBJECTS
    return math.ceil(n / per), PER_PATIENT_SLICES


def tier_data(work: Path, n: int, matrix: int) -> list[Path]:
    """The patient folders of a tier, generated once (each under a temporary name, then renamed)."""
    from fixtures.rtcourse import write_course

    patients, slices = tier_shape(n)
    pool = work / f"pool-m{matrix}-s{slices}"
    pool.mkdir(parents=True, exist_ok=True)
    folders = []
    for i in range(patients):
        folder = pool / f"p{i:04d}"
        if not folder.is_dir():
            part = pool / f"p{i:04d}.part"
            shutil.rmtree(part, ignore_errors=True)
            write_course(part, seed=1000 + i, n_slices=slices, matrix=matrix)
            part.rename(folder)
        folders.append(folder)
    return folders


def instances_in(folders: Sequence[Path]) -> tuple[int, int]:
    """(files, bytes) in the folders."""
    files = [f for d in folders for f in d.iterdir() if f.is_file()]
    return len(files), sum(f.stat().st_size for f in files)


def file_list(root: Path, listing: Path) -> int:
    """Write every file below root (relative, sorted) to listing; return their bytes."""
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    listing.write_text("".join(f"{n}\n" for n in names))
    return sum((root / n).stat().st_size for n in names)


# --- profiles of missed targets --------------------------------------------------------------


def profile_top(cmd: Sequence[str], scratch: Path, *, setup: Callable[[], None], lines: int) -> str:
    """Run a ``python -m X`` command under cProfile; the top functions by own and total time."""
    assert cmd[0] == sys.executable and cmd[1] == "-m"
    setup()
    out = scratch / "profile.pstats"
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(out), *cmd[1:]],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    if not out.exists():
        return "(no profile: the command failed under cProfile)"
    stats = pstats.Stats(str(out))
    total = stats.total_tt  # type: ignore[attr-defined]
    text = [f"total {total:.2f} s under cProfile"]
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        text.append(f"top {lines} by {title}:")
        text.append(f"{'calls':>9} {'own s':>8} {'cum s':>8}  function")
        entries = sorted(
            stats.stats.items(),  # type: ignore[attr-defined]
            key=lambda kv: kv[1][2] if key == "tottime" else kv[1][3],
            reverse=True,
        )
        if key == "cumulative":  # the chain from main() down to the command says nothing
            entries = [e for e in entries if e[1][3] < 0.95 * total and _ours(e[0][0])]
        for (path, line, name), (_cc, nc, tt, ct, _callers) in entries[:lines]:
            where = _short(path)
            text.append(f"{nc:>9} {tt:>8.2f} {ct:>8.2f}  {where}:{line}({name})")
    out.unlink()
    return "\n".join(text)


def _ours(path: str) -> bool:
    """mediakit and the libraries it spends its time in, not click or the interpreter."""
    return any(f"{m}/" in path for m in ("mediakit", "pydicom", "pycdlib", "benchmarks"))


def _short(path: str) -> str:
    for marker in ("site-packages/", "lib/python3", str(REPO) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


# --- the benchmark ---------------------------------------------------------------------------


@dataclass
class Context:
    work: Path
    scratch: Path
    repeat: int
    matrix: int
    notes: list[str] = field(default_factory=list)
    details: list[tuple[str, Measured]] = field(default_factory=list)

    def run(
        self,
        label: str,
        steps: Sequence[tuple[Sequence[str], Path | None]],
        setup: Callable[[], None] | None = None,
        repeat: int | None = None,
    ) -> Measured:
        print(f"  {label} ...", file=sys.stderr, flush=True)
        got = measure(steps, repeat=repeat or self.repeat, setup=setup)
        print(f"  {label}: {got.cell()}", file=sys.stderr, flush=True)
        self.details.append((label, got))
        return got


def bench_scaling(
    ctx: Context, tiers: Sequence[int], compare: int
) -> tuple[Row, dict[int, Measured]]:
    """mediakit build -> ISO per tier; per-instance cost of the largest tier over the smallest."""
    builds: dict[int, Measured] = {}
    counts: dict[int, int] = {}
    for n in tiers:
        folders = tier_data(ctx.work, n, ctx.matrix)
        counts[n] = instances_in(folders)[0]
        out = ctx.scratch / f"build-{n}.iso"
        builds[n] = ctx.run(
            f"mediakit build {counts[n]} -> ISO",
            [(mediakit("build", *folders, "-o", out, "-q"), None)],
            setup=fresh(out),
        )
    lo, hi = min(tiers), max(tiers)
    per = {n: builds[n].wall / counts[n] for n in tiers}
    cells = " → ".join(f"{per[n] * 1e3:.2f} ms" for n in tiers)
    if lo == hi:
        row = Row(
            "per-instance build cost across tiers",
            cells,
            "",
            None,
            "≤ 1.2×",
            None,
            "one tier",
        )
    else:
        ratio = per[hi] / per[lo]
        row = Row(
            f"per-instance build cost {counts[lo]:,} → {counts[hi]:,}",
            cells,
            "(same command, smallest tier)",
            ratio,
            "≤ 1.2×",
            ratio <= 1.2,
        )
        # Profiled on the comparison tier (the same command as the build row, profiled once):
        # the largest tier under cProfile would take longer than the whole run.
        folders = tier_data(ctx.work, compare, ctx.matrix)
        row.profile_cmd = mediakit("build", *folders, "-o", ctx.scratch / "profile.iso", "-q")
    return row, builds


def bench_pipeline(ctx: Context, n: int, build: Measured) -> Row:
    folders = tier_data(ctx.work, n, ctx.matrix)
    count = instances_in(folders)[0]
    layout, iso = ctx.scratch / "layout", ctx.scratch / "pipeline.iso"
    ref = ctx.run(
        f"copy + dcmmkdir + genisoimage {count}",
        [
            (step("copy", layout, *folders), None),
            (["dcmmkdir", "-q", "-Pgp", "+r", "+id", "."], layout),
            (["genisoimage", "-quiet", "-o", str(iso), str(layout)], None),
        ],
        setup=fresh(layout, iso),
    )
    fresh(layout, iso)()
    ratio = build.wall / ref.wall
    out = ctx.scratch / "profile.iso"
    return Row(
        f"build {count:,} → ISO vs copy + dcmmkdir + genisoimage",
        build.cell(),
        ref.cell(),
        ratio,
        "≤ 0.8×",
        ratio <= 0.8,
        profile_cmd=mediakit("build", *folders, "-o", out, "-q"),
    )


def bench_fileset(ctx: Context, n: int) -> Row:
    folders = tier_data(ctx.work, n, ctx.matrix)
    half = folders[: max(1, len(folders) // 2)]
    count = instances_in(half)[0]
    mk_out, fs_out = ctx.scratch / "mk-dir", ctx.scratch / "fileset"
    mk = ctx.run(
        f"mediakit build {count} -> folder",
        [(mediakit("build", *half, "-o", mk_out, "--format", "dir", "-q"), None)],
        setup=fresh(mk_out),
    )
    ref = ctx.run(
        f"pydicom FileSet add + write {count}",
        [(step("fileset", fs_out, *half), None)],
        setup=fresh(fs_out),
        repeat=1,  # minutes, not seconds
    )
    fresh(mk_out, fs_out)()
    ratio = ref.wall / mk.wall
    return Row(
        f"build {count:,} → folder vs pydicom FileSet add + write (speed-up)",
        mk.cell(),
        ref.cell(),
        ratio,
        "≥ 20×",
        ratio >= 20,
        profile_cmd=mediakit("build", *half, "-o", mk_out, "--format", "dir", "-q"),
    )


def bench_iso_stage(ctx: Context, n: int) -> Row:
    folders = tier_data(ctx.work, n, ctx.matrix)
    medium = ctx.scratch / "medium-dir"
    fresh(medium)()
    probe(mediakit("build", *folders, "-o", medium, "--format", "dir", "-q"))
    listing = ctx.scratch / "files.txt"
    size = file_list(medium, listing)
    iso, cat_out = ctx.scratch / "stage.iso", ctx.scratch / "cat.out"
    stage = ctx.run(
        f"ISO stage {size / 1e6:.0f} MB",
        [(step("iso", listing, medium, iso), None)],
        setup=fresh(iso),
    )
    stage.wall = json.loads(stage.out)["seconds"]  # the writer alone, without start-up
    cat = ctx.run(
        f"cat {size / 1e6:.0f} MB to one file",
        [(["sh", "-c", f"xargs -d '\\n' -a '{listing}' cat > '{cat_out}' && sync '{cat_out}'"],
          medium)],
        setup=fresh(cat_out),
    )  # fmt: skip
    fresh(iso, cat_out)()
    ratio = cat.wall / stage.wall
    return Row(
        "ISO stage vs cat of the same bytes (throughput)",
        f"{size / stage.wall / 1e6:.0f} MB/s ({stage.cell()})",
        f"{size / cat.wall / 1e6:.0f} MB/s ({cat.cell()})",
        ratio,
        "≥ 0.7×",
        ratio >= 0.7,
        note="both end with an fsync of the output",
        profile_cmd=step("iso", listing, medium, iso),
    )


def bench_check(ctx: Context, image: Path) -> Row:
    mk = ctx.run("mediakit check (verifies SHA256.TXT)", [(mediakit("check", image, "-q"), None)])
    ref = ctx.run("sha256sum image", [(["sha256sum", str(image)], None)])
    ratio = mk.wall / ref.wall
    return Row(
        f"check + verify vs sha256sum of the image ({image.stat().st_size / 1e6:.0f} MB)",
        mk.cell(),
        ref.cell(),
        ratio,
        "≤ 1.5×",
        ratio <= 1.5,
        profile_cmd=mediakit("check", image, "-q"),
    )


def bench_import(ctx: Context, image: Path) -> Row:
    store, tree = ctx.scratch / "store", ctx.scratch / "bsdtar"
    mk = ctx.run(
        "mediakit import --to",
        [(mediakit("import", image, "--to", store, "-q"), None)],
        setup=fresh(store),
    )

    def mkdir() -> None:
        fresh(tree)()
        tree.mkdir()

    ref = ctx.run("bsdtar -x", [(["bsdtar", "-xf", str(image), "-C", str(tree)], None)], mkdir)
    fresh(store, tree)()
    ratio = mk.wall / ref.wall
    return Row(
        "import --to vs bsdtar -x of the image",
        mk.cell(),
        ref.cell(),
        ratio,
        "≤ 2×",
        ratio <= 2,
        note="import fsyncs what it stores; bsdtar does not",
        profile_cmd=mediakit("import", image, "--to", store, "-q"),
    )


def bench_dvd(ctx: Context, sizes_gb: Sequence[float], keep: bool) -> Row:
    """Peak RSS of DVD builds of growing size, from the same large conforming CT files."""
    top = min(max(sizes_gb) * 1e9, DVD_CAPACITY * 0.99)
    dvd = ctx.work / "dvd"
    free = shutil.disk_usage(ctx.work).free
    if free < 2.2 * top + 1e9:
        ctx.notes.append(f"DVD row skipped: {free / 1e9:.1f} GB free, {2.2 * top / 1e9:.1f} needed")
        return Row("peak RSS, DVD build", "skipped", "", None, "≤ 200 MB, flat", None, "disk")
    template = ctx.work / "dvd-template"
    if not template.is_dir():
        from fixtures.rtcourse import write_course

        write_course(template, seed=4242, n_slices=1)
    marker = dvd / f".complete-{int(top)}"
    if not marker.exists():
        fresh(dvd)()
        probe(step("bigct", dvd, template / "CT.1.dcm", int(top)))
        marker.touch()
    files = sorted(f for f in dvd.iterdir() if f.name.startswith("BIG"))
    results: list[tuple[float, Measured]] = []
    try:
        for gb in sorted(sizes_gb):
            want, chosen, total = min(gb * 1e9, top), [], 0
            for f in files:
                if total >= want * 0.999:
                    break
                chosen.append(f)
                total += f.stat().st_size
            out = ctx.scratch / "dvd.iso"
            got = ctx.run(
                f"mediakit build DVD {total / 1e9:.2f} GB",
                [(mediakit("build", *chosen, "-o", out, "--profile", DVD_PROFILE, "-q"), None)],
                setup=fresh(out),
                repeat=1,
            )
            fresh(out)()
            results.append((total, got))
    finally:
        if not keep:
            fresh(dvd)()
    (small_b, small), (big_b, big) = results[0], results[-1]
    ratio = big.rss_kib / small.rss_kib
    met = big.rss_kib <= 200 * 1024 and ratio <= 1.1
    cells = " → ".join(f"{m.rss_kib / 1024:.0f} MiB @ {b / 1e9:.2f} GB" for b, m in results)
    return Row(
        f"peak RSS, DVD build {small_b / 1e9:.2f} → {big_b / 1e9:.2f} GB",
        cells,
        f"wall {_seconds(small.wall)} → {_seconds(big.wall)}",
        ratio,
        "≤ 200 MB, ≤ 1.1× (flat)",
        met,
        profile_cmd=None,
    )


# --- report ----------------------------------------------------------------------------------


def _first_line(cmd: Sequence[str]) -> str:
    try:
        got = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (got.stdout or got.stderr).strip().splitlines()
    return text[0].strip() if text else "?"


def machine() -> list[str]:
    from importlib.metadata import version

    cpu, mem = "?", "?"
    try:
        cpu = next(
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        )
        kib = next(
            int(ln.split()[1])
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        )
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    return [
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.platform()}; {cpu}; {os.cpu_count()} CPUs; {mem} memory",
        f"- python {platform.python_version()}, "
        + ", ".join(f"{p} {version(p)}" for p in ("mediakit", "pydicom", "pycdlib")),
        f"- {_first_line(['dcmmkdir', '--version'])}; {_first_line(['genisoimage', '--version'])}"
        f"; {_first_line(['bsdtar', '--version'])}; {_first_line(['sha256sum', '--version'])}",
    ]


def render(rows: Sequence[Row], ctx: Context, argv: Sequence[str], data: str) -> str:
    out = ["# Benchmarks", ""]
    out += machine()
    out += [
        f"- command: `{shlex.join(['python', '-m', 'benchmarks.run', *argv])}`",
        f"- data: {data}",
        "",
        "Wall time is the fastest of the runs, peak RSS the largest (each command in a fresh "
        "process, its children included). Ratios are mediakit ÷ reference for times, "
        "reference ÷ mediakit for speed-ups and throughput.",
        "",
        "| measure | mediakit | reference | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        note = f" ({r.note})" if r.note else ""
        out.append(
            f"| {r.measure}{note} | {r.mediakit} | {r.reference} | {r.ratio_text()} "
            f"| {r.target} | {r.status()} |"
        )
    out += ["", "## Every command", "", "| command | wall | peak RSS |", "|---|---|---|"]
    out += [
        f"| {label} | {_seconds(m.wall)} | {m.rss_kib / 1024:.0f} MiB |" for label, m in ctx.details
    ]
    missed = [r for r in rows if r.met is False]
    if missed:
        out += ["", "## Targets missed: by how much, and where the time goes", ""]
        for r in missed:
            out += [f"### {r.measure}", "", f"{r.ratio_text()} against a target of {r.target}."]
            if r.profile:
                out += ["", "```", r.profile, "```"]
            out.append("")
    if ctx.notes:
        out += ["", "## Notes", "", *(f"- {n}" for n in ctx.notes)]
    if BOUNDS.exists():  # an engineer's reading of the profiles, kept beside the script
        out += ["", BOUNDS.read_text().strip()]
    return "\n".join(out).rstrip() + "\n"


def print_table(rows: Sequence[Row]) -> None:
    width = max(len(r.measure) for r in rows)
    print(f"{'measure':<{width}}  {'ratio':>8}  {'target':<24} met")
    for r in rows:
        print(f"{r.measure:<{width}}  {r.ratio_text():>8}  {r.target:<24} {r.status()}")


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--tiers", default="1k,10k", help="instance counts, e.g. 1k,10k,50k")
    parser.add_argument("--compare", default=None, help="tier for the comparisons (default 10k)")
    parser.add_argument("--matrix", type=int, default=64, help="CT rows and columns")
    parser.add_argument("--repeat", type=int, default=1, help="runs per command (fastest counts)")
    parser.add_argument("--dvd-gb", default="1,4.7", help="DVD build sizes in GB; '' skips")
    parser.add_argument("--work", type=Path, default=HERE / "work", help="data and scratch")
    parser.add_argument("--out", type=Path, default=HERE / "results.md", help="results file")
    parser.add_argument("--keep", action="store_true", help="keep the DVD data afterwards")
    parser.add_argument("--no-profile", action="store_true", help="do not profile misses")
    parser.add_argument("--profile-lines", type=int, default=14)
    args = parser.parse_args(args_list)
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        parser.error(f"missing tools: {', '.join(missing)} (see tests/install-and-run.sh)")
    tiers = sorted({parse_tier(t) for t in args.tiers.split(",") if t.strip()})
    compare = (
        parse_tier(args.compare) if args.compare else (10_000 if 10_000 in tiers else tiers[-1])
    )
    tiers = sorted({*tiers, compare})
    sizes = [float(s) for s in args.dvd_gb.split(",") if s.strip()]
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scratch-", dir=args.work) as tmp:
        ctx = Context(args.work, Path(tmp), args.repeat, args.matrix)
        print(f"data: tiers {tiers}, matrix {args.matrix}", file=sys.stderr)
        for n in tiers:
            tier_data(args.work, n, args.matrix)
        count, size = instances_in(tier_data(args.work, compare, args.matrix))
        data = (
            f"fixtures/rtcourse.py courses of {tier_shape(compare)[1]} CT slices "
            f"({args.matrix}×{args.matrix}) + {RT_OBJECTS} RT objects per patient; comparisons "
            f"on {count:,} instances ({size / 1e6:.0f} MB); tiers "
            + ", ".join(f"{instances_in(tier_data(args.work, n, args.matrix))[0]:,}" for n in tiers)
        )
        scaling, builds = bench_scaling(ctx, tiers, compare)
        image = ctx.scratch / f"build-{compare}.iso"
        fresh(image)()
        probe(mediakit("build", *tier_data(args.work, compare, args.matrix), "-o", image, "-q"))
        rows = [
            bench_pipeline(ctx, compare, builds[compare]),
            bench_fileset(ctx, compare),
            bench_iso_stage(ctx, compare),
            bench_check(ctx, image),
            bench_import(ctx, image),
        ]
        rows.append(
            bench_dvd(ctx, sizes, args.keep)
            if sizes
            else Row(
                "peak RSS, DVD build", "skipped", "", None, "≤ 200 MB, flat", None, "--dvd-gb ''"
            )
        )
        rows.append(scaling)
        if not args.no_profile:
            done: dict[tuple[str, ...], str] = {}  # the same command is profiled once
            for r in rows:
                if r.met is False and r.profile_cmd is not None:
                    key = tuple(r.profile_cmd)
                    if key not in done:
                        print(f"  profiling: {r.measure}", file=sys.stderr, flush=True)
                        done[key] = profile_top(
                            r.profile_cmd, ctx.scratch, setup=_cleaner(r.profile_cmd),
                            lines=args.profile_lines,
                        )  # fmt: skip
                    r.profile = done[key]
        ctx.notes.append(f"the whole run took {time.perf_counter() - started:.0f} s")
        text = render(rows, ctx, args_list, data)
    args.out.write_text(text)
    print_table(rows)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _cleaner(cmd: Sequence[str]) -> Callable[[], None]:
    """Removes the output a profiled command will create (the argument after -o / --to)."""
    outs = [Path(cmd[i + 1]) for i, a in enumerate(cmd[:-1]) if a in ("-o", "--to")]
    if len(cmd) > 3 and cmd[2] == "benchmarks.steps" and cmd[3] == "iso":
        outs.append(Path(cmd[-1]))
    return fresh(*outs)


if __name__ == "__main__":
    sys.exit(main())
