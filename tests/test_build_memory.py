"""build streams file data: peak memory does not grow with the size of the medium.

Two builds run in fresh processes, one of a few kilobytes and one of 256 MiB of
pixel data; their peak resident set sizes must stay within a small margin of
each other. (The 4.7 GB DVD measurement lives in benchmarks/.)
"""

from __future__ import annotations

import gc
import io
import struct
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset

from fixtures.rtcourse import write_course
from mediakit import build
from mediakit.check.runner import Report, check_medium
from mediakit.inputs import Collected
from mediakit.inputs import collect as real_collect
from mediakit.profiles import load_profile

_PEAK = (
    "import resource, subprocess, sys; "
    "run = subprocess.run([sys.executable, '-m', 'mediakit', *sys.argv[1:]], "
    "stdout=subprocess.DEVNULL); "
    "print(run.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
MARGIN_KIB = 40 * 1024


def big_ct(template: Path, out: Path, side: int, uid: str) -> None:
    """A conforming CT file with side x side 16-bit pixels, written without holding them."""
    ds = pydicom.dcmread(template)
    del ds.PixelData
    ds.Rows = ds.Columns = side
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
    head = io.BytesIO()
    ds.save_as(head, enforce_file_format=True)
    length = side * side * 2
    with open(out, "wb") as fp:
        fp.write(head.getvalue())
        fp.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, length))
        chunk = bytes(1 << 20)
        for _ in range(length // len(chunk)):
            fp.write(chunk)


def peak_rss_kib(*args: object) -> int:
    run = subprocess.run(
        [sys.executable, "-c", _PEAK, *map(str, args)], capture_output=True, text=True
    )
    code, peak = run.stdout.split()
    assert code == "0", run.stderr
    return int(peak)


def test_peak_memory_does_not_grow_with_content(tmp_path: Path) -> None:
    small = tmp_path / "small"
    write_course(small, 3, n_slices=2)
    big = tmp_path / "big"
    big.mkdir()
    for n in range(2):  # 128 MiB each
        big_ct(small / "CT.1.dcm", big / f"CT{n}.dcm", 8192, f"2.25.{4242 + n}")
    small_peak = peak_rss_kib("build", small, "-o", tmp_path / "small.iso", "-q")
    big_peak = peak_rss_kib(
        "build", big, "-o", tmp_path / "big.iso", "--profile", "STD-GEN-DVD-JPEG", "-q"
    )
    assert (tmp_path / "big.iso").stat().st_size > 256 << 20
    assert big_peak - small_peak < MARGIN_KIB, (small_peak, big_peak)


def test_verify_holds_no_collected_header(
    course_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verify reads every header again from the medium: the collected ones are gone by then.

    Holding both passes' headers doubled the peak of a 50k build (benchmarks/).
    """
    collected: list[weakref.ref[Dataset]] = []
    alive_at_verify: list[int] = []

    def collect(*args: Any, **kwargs: Any) -> Collected:
        result = real_collect(*args, **kwargs)
        collected.extend(weakref.ref(i.header.keys) for i in result.instances)
        return result

    def verify(*args: Any, **kwargs: Any) -> Report:
        gc.collect()
        alive_at_verify.append(sum(ref() is not None for ref in collected))
        return check_medium(*args, **kwargs)

    monkeypatch.setattr(build, "collect", collect)
    monkeypatch.setattr(build, "check_medium", verify)
    result = build.build_medium([course_dir], tmp_path / "m.iso", load_profile("STD-GEN-CD"))
    assert result.verify is not None and result.instances == len(collected) > 0
    assert alive_at_verify == [0]
