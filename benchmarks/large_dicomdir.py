"""Time ``ls``, ``check`` and ``import`` on a DICOMDIR of many records whose files are absent.

``python -m benchmarks.large_dicomdir [--records 200000] [--work benchmarks/work]``

The medium is the corpus case ``d112_200k_records`` scaled to ``--records``: the
base medium (2 CT slices, 7 RT objects) with that many IMAGE records added to its
CT series. Each command runs in a fresh process; wall time and peak RSS of that
process are printed. Nothing is asserted: the numbers go into bounds.md by hand.
"""

from __future__ import annotations

import argparse
import copy
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_medium(work: Path, records: int) -> Path:
    """The base medium with ``records`` extra IMAGE records (made once, then reused)."""
    from fixtures.rtcourse import write_course
    from mediakit.build import build_medium
    from mediakit.profiles import load_profile
    from tests.media import _lib

    medium = work / f"dicomdir-{records}"
    if (medium / "DICOMDIR").exists():
        return medium
    export = work / "dicomdir-export"
    if not export.exists():
        write_course(export, 5, n_slices=2)
    build_medium([export], medium, load_profile("STD-GEN-CD"), fmt="dir", volume_id="BASE")
    (medium / "SHA256.TXT").unlink()
    roots, _ = _lib.edit_tree(medium)
    ct = roots[0].children[0].children[0]
    template = ct.children[0]
    for n in range(records):
        rec = copy.copy(template)
        rec.file_id = ("PT000000", "ST000000", "SE000000", f"X{n:07d}")
        rec.sop_instance_uid = f"2.25.{n}"
        ct.children.append(rec)
    _lib.rewrite(medium, roots)
    return medium


def _timed(*args: str) -> tuple[float, int]:
    """Seconds and peak RSS (MiB) of one mediakit command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "mediakit", *args], capture_output=True, check=False)
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) // 1024


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=HERE / "work")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    medium = make_medium(args.work, args.records)
    store = args.work / f"store-{args.records}"
    shutil.rmtree(store, ignore_errors=True)  # import into a new store: every record is decided
    for command in (
        ["ls", "--json"],
        ["ls"],
        ["check", "--profile", "STD-GEN-CD", "--json"],
        ["import", "--to", str(store), "--json"],
    ):
        seconds, mib = _timed(command[0], str(medium), *command[1:])
        print(f"{' '.join(command):<40} {seconds:7.1f} s  {mib:6d} MiB (peak so far)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
