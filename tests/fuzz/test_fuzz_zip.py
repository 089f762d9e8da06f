"""Fuzz ZIP media: the archive ``mediakit build --format zip`` writes, and a deflated one.

Each example mutates the archive (bit flips, overwrites, insertions,
deletions, truncation, duplicated ranges), mostly in its central directory
and local headers, and runs ``check``, the ``ls`` document and ``import`` on
it as tests/fuzz/test_fuzz_media.py does: only documented errors, nothing
written outside the store, a consistent store. A damaged member is a finding
(V308), a whole archive too damaged to list one V308 (MediaError from import).
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from mediakit.build import build_medium
from mediakit.check.runner import check_medium
from mediakit.errors import InputError
from mediakit.profiles import load_profile
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.mutate import Seed, apply, mutations, raw_seed
from tests.fuzz.test_fuzz_media import _every_command


def _zip_seed(name: str, data: bytes) -> Seed:
    """An archive; its hot range is every local header and the central directory.

    The local headers are spread over the archive, so the hot range is the
    central directory (where zipfile looks first); the positions that fall
    anywhere reach the local headers and the members' bytes.
    """
    end = data.rindex(b"PK\x05\x06")
    (start,) = struct.unpack("<L", data[end + 16 : end + 20])
    return replace(raw_seed(name, data), hot=(start, len(data) - 1))


@pytest.fixture(scope="module")
def zip_seeds(fuzz_course: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Seed]:
    """The course as ``build --format zip`` writes it (stored), and the same files deflated."""
    out = tmp_path_factory.mktemp("fuzz-zip") / "course.zip"
    result = build_medium([fuzz_course], out, load_profile("STD-GEN-CD"), fmt="zip")
    assert result.output == out
    stored = out.read_bytes()
    deflated = out.with_name("deflated.zip")
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    return [_zip_seed("built zip", stored), _zip_seed("deflated zip", deflated.read_bytes())]


@pytest.mark.filterwarnings("ignore::UserWarning")
@given(data=st.data())
@fuzz_settings(40, deadline=20)
def test_zip_medium_mutated(data: st.DataObject, zip_seeds: list[Seed], scratch: Path) -> None:
    s = data.draw(st.sampled_from(zip_seeds), label="seed")
    aimed = data.draw(st.booleans(), label="aimed at the central directory")
    ops = data.draw(mutations(s, hot=s.hot if aimed else None), label="ops")
    mutated = apply(s.data, ops)
    folder = scratch / "zip"
    folder.mkdir(exist_ok=True)
    path = folder / "course.zip"
    path.write_bytes(mutated)
    if mutated[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        event("no longer a ZIP by its first bytes")
        with pytest.raises(InputError, match="not an ISO 9660 image, a ZIP"):
            check_medium(path)  # no longer a medium by content: a usage error, exit 2
        return
    _every_command(path, scratch, folder)
