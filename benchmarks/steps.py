"""The steps the benchmark runs in their own processes (so each has its own peak RSS).

``python -m benchmarks.steps STEP ARGS...``:

``copy DST SRC_DIR...``
    What a user would script before ``dcmmkdir``: copy every file of each source
    folder into an uppercase 8-character layout, ``DST/PT000000/IM000000``.
``fileset OUT SRC_DIR...``
    pydicom's own File-set writer: ``FileSet.add(path)`` for every file, then
    ``FileSet.write(OUT)``.
``iso LIST ROOT OUT``
    The ISO stage alone: :func:`mediakit.iso.write_iso` over the files named in
    LIST (relative to ROOT, one per line); prints its own wall time as JSON, so
    interpreter start-up is not counted.
``bigct DST TEMPLATE BYTES``
    Conforming CT files of 128 MiB of pixel data (the last one smaller) until
    BYTES are written, without holding the pixels (as tests/test_build_memory.py).
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import sys
import time
from collections.abc import Sequence
from pathlib import Path

_BIG_SIDE = 8192  # 8192 x 8192 x 16 bit = 128 MiB per file


def copy_layout(dst: Path, sources: Sequence[Path]) -> int:
    """Copy the files of each source folder to DST/PTnnnnnn/IMnnnnnn; return how many."""
    count = 0
    for p, folder in enumerate(sources):
        target = dst / f"PT{p:06d}"
        target.mkdir(parents=True)
        for i, src in enumerate(sorted(f for f in folder.iterdir() if f.is_file())):
            shutil.copyfile(src, target / f"IM{i:06d}")
            count += 1
    return count


def pydicom_fileset(out: Path, sources: Sequence[Path]) -> int:
    """pydicom's FileSet: add every file, then write the File-set to OUT."""
    from pydicom.fileset import FileSet

    fs = FileSet()
    count = 0
    for folder in sources:
        for src in sorted(f for f in folder.iterdir() if f.is_file()):
            fs.add(src)
            count += 1
    fs.write(out)
    return count


def iso_stage(listing: Path, root: Path, out: Path) -> float:
    """Master the files named in ``listing`` into ``out`` with mediakit's ISO writer."""
    from mediakit.iso import Entry, write_iso

    names = listing.read_text().split("\n")
    entries = []
    for name in filter(None, names):
        path = root / name
        entries.append(Entry(tuple(name.split("/")), path, path.stat().st_size))
    start = time.perf_counter()
    write_iso(entries, out, volume_id="BENCH")
    return time.perf_counter() - start


def big_cts(dst: Path, template: Path, total: int) -> int:
    """Conforming CT files (128 MiB of pixels each, the last one smaller) adding up to total."""
    import pydicom

    dst.mkdir(parents=True, exist_ok=True)
    base = pydicom.dcmread(template)
    del base.PixelData
    written, n = 0, 0
    chunk = bytes(1 << 20)
    while written < total:
        side = _BIG_SIDE
        while side > 64 and side * side * 2 > total - written:
            side //= 2
        ds = base.copy()
        ds.Rows = ds.Columns = side
        uid = f"2.25.{987654321000 + n}"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.InstanceNumber = n + 1
        head = io.BytesIO()
        ds.save_as(head, enforce_file_format=True)
        length = side * side * 2
        with open(dst / f"BIG{n:05d}", "wb") as fp:
            fp.write(head.getvalue())
            fp.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, length))
            left = length
            while left:
                fp.write(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))
        written += length + len(head.getvalue()) + 12
        n += 1
    return n


def main(argv: Sequence[str]) -> int:
    step, *args = argv
    if step == "copy":
        copy_layout(Path(args[0]), [Path(a) for a in args[1:]])
    elif step == "fileset":
        pydicom_fileset(Path(args[0]), [Path(a) for a in args[1:]])
    elif step == "iso":
        seconds = iso_stage(Path(args[0]), Path(args[1]), Path(args[2]))
        print(json.dumps({"seconds": seconds}))
    elif step == "bigct":
        big_cts(Path(args[0]), Path(args[1]), int(args[2]))
    else:
        raise SystemExit(f"unknown step {step!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
