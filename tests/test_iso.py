"""mediakit.iso: reading files by their extents, names, and files over 4 GiB."""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from mediakit.iso import ExtentReader, iso_name
from mediakit.media import iso9660_parts, open_medium


def test_extent_reader_reads_across_extents_and_seeks() -> None:
    rng = random.Random(5)
    image = bytes(rng.randrange(256) for _ in range(50_000))
    extents = ((1000, 7000), (20_000, 13), (30_000, 19_000))
    whole = b"".join(image[s : s + n] for s, n in extents)
    reader = io.BufferedReader(ExtentReader(io.BytesIO(image), extents), 4096)
    assert reader.read() == whole
    for _ in range(300):
        at, size = rng.randrange(len(whole) + 10), rng.randrange(9000)
        reader.seek(at)
        assert reader.read(size) == whole[at : at + size]
    reader.seek(-5, io.SEEK_END)
    assert reader.read() == whole[-5:]


def test_file_id_to_iso9660_name_and_back() -> None:
    assert iso_name(("PT000000", "IM000000")) == "/PT000000/IM000000.;1"
    assert iso_name(("SHA256.TXT",)) == "/SHA256.TXT;1"
    assert iso9660_parts("PT000000/IM000000.;1") == ("PT000000", "IM000000")
    assert iso9660_parts("DICOMDIR.;1") == ("DICOMDIR",)
    assert iso9660_parts("SHA256.TXT;1") == ("SHA256.TXT",)


@pytest.mark.skipif(
    os.environ.get("MEDIAKIT_LARGE_TESTS") != "1",
    reason="writes a 4 GiB image; set MEDIAKIT_LARGE_TESTS=1 to run",
)
@pytest.mark.skipif(shutil.which("xorriso") is None, reason="xorriso not installed")
def test_a_file_over_4_gib_comes_back_whole(tmp_path: Path) -> None:
    """xorriso writes two directory records (multi-extent); we must read one 4 GiB + file."""
    if shutil.disk_usage(tmp_path).free < 10 << 30:
        pytest.skip("needs 10 GB free")
    src = tmp_path / "src"
    src.mkdir()
    size = (4 << 30) + 12_345
    with open(src / "BIG", "wb") as fp:
        fp.seek(size - 4)
        fp.write(b"END!")
    image = tmp_path / "big.iso"
    subprocess.run(
        ["xorriso", "-as", "mkisofs", "-quiet", "-iso-level", "3", "-o", str(image), str(src)],
        check=True,
        capture_output=True,
    )
    (src / "BIG").unlink()
    with open_medium(image) as medium:
        [big] = medium.files()
        assert big.size == size and len(big.handle) == 2  # type: ignore[arg-type]
        sha = hashlib.sha256()
        with medium.open(big) as fp:
            while chunk := fp.read(1 << 24):
                sha.update(chunk)
    expected = hashlib.sha256()
    zeros = bytes(1 << 24)
    left = size - 4
    while left:
        expected.update(zeros[: min(left, len(zeros))])
        left -= min(left, len(zeros))
    expected.update(b"END!")
    assert sha.hexdigest() == expected.hexdigest()
