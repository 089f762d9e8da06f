"""Tools for the example media: a clean base medium and ways to break it precisely.

Each case folder under positive/ or negative/ has a ``make.py`` with
``make(medium: Path) -> Path``: it receives a fresh copy of the base medium (a
folder, STD-GEN-CD, without its SHA-256 manifest unless the case needs one),
changes it, and returns the medium to check (the folder, or an image made from
it). ``expect.toml`` lists the codes ``mediakit check`` must report, exactly.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pydicom

from mediakit.dicomdir.encode import encode_dicomdir
from mediakit.dicomdir.model import Record, walk_all
from mediakit.dicomdir.parse import ParsedDirectory, parse_dicomdir
from mediakit.iso import Entry, write_iso

ITEM = b"\xfe\xff\x00\xe0"


def parsed(medium: Path) -> ParsedDirectory:
    """The base medium's DICOMDIR as our parser reads it (records with offsets)."""
    return parse_dicomdir((medium / "DICOMDIR").read_bytes())


def records(medium: Path, record_type: str) -> list[Record]:
    """Records of one type, in DICOMDIR order."""
    return [r for r in parsed(medium).records if r.record_type == record_type]


def rewrite(medium: Path, roots: list[Record], fileset_id: str = "BASE") -> None:
    """Encode a (changed) record tree as the medium's DICOMDIR."""
    data = encode_dicomdir(roots, fileset_id=fileset_id, fileset_uid="2.25.1234")
    (medium / "DICOMDIR").write_bytes(data)


def edit_tree(medium: Path) -> tuple[list[Record], Iterator[tuple[int, Record]]]:
    """The DICOMDIR's root records (to change and :func:`rewrite`) and a walk over them."""
    roots = parsed(medium).roots
    return roots, walk_all(roots)


def patch(path: Path, at: int, value: bytes) -> None:
    """Overwrite bytes of a file in place."""
    with open(path, "r+b") as fp:
        fp.seek(at)
        fp.write(value)


def offset_value_at(record_offset: int, which: str) -> int:
    """Where a record's (0004,1400) 'next' or (0004,1420) 'lower' UL value lies.

    Our encoder writes, after the 8-byte item header: (0004,1400) UL (12 bytes),
    (0004,1410) US (10 bytes), (0004,1420) UL (12 bytes).
    """
    return record_offset + (16 if which == "next" else 38)


def set_ul(path: Path, at: int, value: int) -> None:
    patch(path, at, struct.pack("<L", value))


def file_of(medium: Path, rec: Record) -> Path:
    assert rec.file_id is not None
    return medium.joinpath(*rec.file_id)


def instances(medium: Path) -> list[Path]:
    """The DICOM files: not in the root (DICOMDIR, PDI files), not in IHE_PDI/."""
    return sorted(
        p
        for p in medium.rglob("*")
        if p.is_file() and p.parent != medium and p.relative_to(medium).parts[0] != "IHE_PDI"
    )


def save(ds: pydicom.Dataset, path: Path, **kwargs: object) -> None:
    path.unlink(missing_ok=True)
    ds.save_as(path, **kwargs)  # type: ignore[arg-type]


def master(medium: Path, image: Path, volume_id: str = "BASE") -> Path:
    """The folder mastered by our own ISO writer (names already ISO 9660 Level 1)."""
    entries = []
    for p in sorted(q for q in medium.rglob("*") if q.is_file()):
        entries.append(Entry(p.relative_to(medium).parts, p, p.stat().st_size))
    write_iso(entries, image, volume_id=volume_id)
    return image


def run(*args: object, cwd: Path | None = None) -> None:
    subprocess.run([str(a) for a in args], check=True, capture_output=True, cwd=cwd)


def needs(*tools: str) -> None:
    """Skip the case unless these independent tools are installed."""
    import shutil

    import pytest

    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")


def pydicom_tests(medium: Path, variant: str) -> Path:
    """pydicom's dicomdirtests File-set (3 patients) with one of its DICOMDIR variants."""
    import shutil

    from pydicom.data import get_testdata_file

    found = get_testdata_file("DICOMDIR")
    assert found is not None
    source = Path(str(found)).parent
    shutil.rmtree(medium)
    medium.mkdir()
    for folder in ("77654033", "98892001", "98892003"):
        shutil.copytree(source / folder, medium / folder)
    shutil.copy(source / variant, medium / "DICOMDIR")
    return medium


def write_manifest(medium: Path) -> None:
    """A SHA256.TXT for the medium as it is now, as build writes it."""
    from mediakit.manifest import MANIFEST_NAME, format_manifest
    from mediakit.part10 import sha256_of

    files = [p for p in medium.rglob("*") if p.is_file() and p.name != MANIFEST_NAME]
    items = [(p.relative_to(medium).as_posix(), sha256_of(p)) for p in files]
    (medium / MANIFEST_NAME).write_bytes(format_manifest(items))


def loop_iso_directory(image: Path) -> None:
    """Point the first subdirectory's record (in the root directory) at the root's own extent."""
    with open(image, "rb") as fp:
        fp.seek(16 * 2048 + 156 + 2)  # PVD: the root directory record's extent (ECMA-119 8.4.18)
        root_extent = int.from_bytes(fp.read(4), "little")
    set_subdirectory_extent(image, root_extent)


def set_subdirectory_extent(image: Path, block: int) -> None:
    """Point the first subdirectory's record (in the root directory) at another block."""
    new_extent = block.to_bytes(4, "little")
    with open(image, "r+b") as fp:
        fp.seek(16 * 2048 + 156)  # PVD: the root directory record (ECMA-119 8.4.18)
        root = fp.read(34)
        root_extent = root[2:6]
        fp.seek(int.from_bytes(root_extent, "little") * 2048)
        block = bytearray(fp.read(2048))
        pos = 0
        while pos < len(block) and block[pos]:
            length, flags = block[pos], block[pos + 25]
            name = block[pos + 33 : pos + 33 + block[pos + 32]]
            if flags & 0x02 and name not in (b"\x00", b"\x01"):  # a subdirectory
                block[pos + 2 : pos + 6] = new_extent
                block[pos + 6 : pos + 10] = new_extent[::-1]
                break
            pos += length
        else:
            raise AssertionError("no subdirectory record in the root")
        fp.seek(int.from_bytes(root_extent, "little") * 2048)
        fp.write(block)


CT_FILE = "PT000000/ST000000/SE000000/IM000000"  # the base medium's first CT slice


def zipped(medium: Path, name: str = "medium.zip") -> Path:
    """The medium's files as a deflated ZIP beside it (the folder removed)."""
    import shutil
    import zipfile

    out = medium.parent / name
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in medium.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(medium).as_posix())
    shutil.rmtree(medium)
    return out


def member_data(archive: Path, name: str) -> tuple[int, int]:
    """Where a ZIP member's compressed bytes start in the archive, and how many there are."""
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(name)
    with open(archive, "rb") as fp:
        fp.seek(info.header_offset + 26)
        n, m = struct.unpack("<HH", fp.read(4))
    return info.header_offset + 30 + n + m, info.compress_size
