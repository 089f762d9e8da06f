"""build's inputs: damaged DICOM files, the same instance in another encoding, what is DICOM.

- A file with 'DICM' at byte 128 is DICOM: cut or garbled, it is an error
  finding (P109, P106) and nothing is written, never skipped as "not DICOM".
  dcmftest (DCMTK), which we did not write, is the oracle for "this is a Part 10
  file"; tests/elements.py, the tests' own walker, says where elements start.
- Two inputs with one SOP Instance UID are one instance when their datasets
  are equal once decoded (F208, one kept); any other difference is F206.
- A bare dataset is tried only when it begins like one, so zeros are rejected
  on their first bytes; a device or FIFO named as input is never read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pydicom
import pytest

from fixtures.rtcourse import write_course
from mediakit.build import build_medium
from mediakit.check.runner import check_medium
from mediakit.errors import DamagedFileError, InputError
from mediakit.importer import import_to_store
from mediakit.inputs import collect
from mediakit.part10 import plausible_dataset_start, read_header_stream, same_instance
from mediakit.profiles import load_profile
from tests.conftest import assert_one_line_error, needs, pydicom_file, run_cli
from tests.elements import boundaries, elements, top_level_starts

CD = load_profile("STD-GEN-CD")


def _codes(findings: object) -> Counter[str]:
    return Counter(f.code for f in findings)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed-7 course as Part 10 Explicit VR files (two CT slices). Do not modify."""
    out = tmp_path_factory.mktemp("clean") / "export"
    write_course(out, 7, n_slices=2)
    return out


@pytest.fixture(scope="module")
def implicit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same course, the same seed, exported in Implicit VR. Do not modify."""
    out = tmp_path_factory.mktemp("implicit") / "export"
    write_course(out, 7, n_slices=2, quirks=["implicit"])
    return out


def _with_cut(clean: Path, tmp_path: Path, name: str, size: int) -> Path:
    folder = tmp_path / f"cut{size}"
    shutil.copytree(clean, folder)
    (folder / name).write_bytes((clean / name).read_bytes()[:size])
    return folder


# --- 1. a damaged DICOM file is an error, never "not DICOM" ----------------------------------


@pytest.mark.parametrize("size", [132, 140, 200, 300])
def test_a_file_cut_inside_its_file_meta_is_p109_and_nothing_is_written(
    clean: Path, tmp_path: Path, size: int
) -> None:
    folder = _with_cut(clean, tmp_path, "RS.dcm", size)
    assert size < (clean / "RS.dcm").read_bytes().index(b"\x08\x00\x05\x00")  # inside the meta
    run = run_cli("build", folder, "-o", tmp_path / "x.iso", "--json")
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    mine = [f for f in doc["findings"] if f["path"].endswith("RS.dcm")]
    assert [(f["code"], f["severity"]) for f in mine] == [("P109", "error")], mine
    assert "File Meta" in mine[0]["message"] or "ends inside" in mine[0]["message"]
    assert doc["output"] is None and not (tmp_path / "x.iso").exists()


@needs("dcmftest")
def test_dcmftest_calls_the_cut_file_dicom_and_build_refuses_it(
    clean: Path, tmp_path: Path
) -> None:
    folder = _with_cut(clean, tmp_path, "RS.dcm", 140)
    oracle = subprocess.run(["dcmftest", str(folder / "RS.dcm")], capture_output=True, text=True)
    assert oracle.stdout.startswith("yes:"), oracle.stdout  # a Part 10 file, to DCMTK too
    result = build_medium([folder], tmp_path / "x.iso", CD)
    assert result.output is None
    assert _codes(result.findings)["P109"] == 1 and "F207" not in _codes(result.findings)


def test_a_named_damaged_file_is_an_error_finding_not_exit_2(clean: Path, tmp_path: Path) -> None:
    cut = tmp_path / "RS.dcm"
    cut.write_bytes((clean / "RS.dcm").read_bytes()[:140])
    run = run_cli("build", cut, clean / "CT.1.dcm", "-o", tmp_path / "x.iso")
    assert run.returncode == 1, run.stderr
    assert "error   P109" in run.stdout and "nothing written" in run.stdout


def test_a_dicm_file_with_garbage_after_its_meta_is_p106(clean: Path, tmp_path: Path) -> None:
    data = (clean / "RS.dcm").read_bytes()
    meta_end = data.index(b"\x08\x00\x05\x00")
    folder = tmp_path / "garbled"
    folder.mkdir()
    (folder / "RS.dcm").write_bytes(data[:meta_end] + b"\x00" * 4096)
    collected = collect([folder], tmp_path / "st", keywords=())
    assert [(f.code, f.severity.value) for f in collected.findings] == [("P106", "error")]


def test_every_cut_inside_an_element_is_p109(clean: Path, tmp_path: Path) -> None:
    """Cut RS.dcm (nested sequences) at every element start, length field and value."""
    data = (clean / "RS.dcm").read_bytes()
    shorter = top_level_starts(data)  # a cut exactly there leaves a valid, shorter dataset
    folder = tmp_path / "in"
    folder.mkdir()
    seen: Counter[str] = Counter()
    for cut in boundaries(data):
        if cut < 132 or cut in shorter:
            continue
        (folder / "RS.dcm").write_bytes(data[:cut])
        collected = collect([folder], tmp_path / "st", keywords=())
        codes = {f.code for f in collected.findings}
        if collected.instances:  # read, but cut: normalise reports it (P109 from its header)
            assert collected.instances[0].header.truncated is not None, cut
            codes.add("P109")
        assert codes == {"P109"}, (cut, [f.line() for f in collected.findings])
        seen["P109"] += 1
    assert seen["P109"] > 100


# --- 2. the same instance in another encoding ------------------------------------------------


def test_the_same_course_in_implicit_vr_is_kept_once(
    clean: Path, implicit: Path, tmp_path: Path
) -> None:
    out = tmp_path / "x.iso"
    result = build_medium([clean, implicit], out, CD, fmt="dir")
    assert result.output == out, [f.line() for f in result.findings]
    n = len(list(clean.iterdir()))
    assert result.instances == n and _codes(result.findings) == {"F208": n}
    for f in result.findings:
        assert f.severity.value == "info" and str(implicit) in f.path and str(clean) in f.message
    # the first given was kept: every file on the medium is a clean file, byte for byte
    originals = {hashlib.sha256(p.read_bytes()).hexdigest() for p in clean.iterdir()}
    written = {hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("PT*/*/*/*")}
    assert written == originals


def test_a_medium_and_the_quirky_export_it_was_built_from_are_one_course(
    tmp_path: Path,
) -> None:
    quirky = tmp_path / "quirky"
    write_course(quirky, 3, n_slices=2, quirks=["implicit", "no_meta", "lowercase_names"])
    first = build_medium([quirky], tmp_path / "q.iso", CD)
    assert first.output is not None and first.rewritten == first.instances
    again = build_medium([tmp_path / "q.iso", quirky], tmp_path / "again.iso", CD)
    assert again.output is not None, [f.line() for f in again.findings]
    assert again.instances == first.instances
    assert _codes(again.findings)["F208"] == first.instances
    assert "F206" not in _codes(again.findings)


def _changed(src: Path, dst: Path, change: object) -> Path:
    ds = pydicom.dcmread(src)
    change(ds)  # type: ignore[operator]
    ds.save_as(dst, enforce_file_format=True)
    return dst


def _pixels(ds: pydicom.Dataset) -> None:
    data = bytearray(ds.PixelData)
    data[-1] ^= 0x01
    ds.PixelData = bytes(data)


def _nested(ds: pydicom.Dataset) -> None:
    item = ds.ROIContourSequence[0].ContourSequence[0]
    item.ContourData = [*item.ContourData[:-1], float(item.ContourData[-1]) + 0.5]


def _top(ds: pydicom.Dataset) -> None:
    ds.PatientName = "MKTEST^OTHER"


@pytest.mark.parametrize(
    ("name", "change"),
    [("CT.1.dcm", _pixels), ("RS.dcm", _nested), ("RP.photon.dcm", _top)],
    ids=["pixel-data", "nested-sequence", "top-level"],
)
def test_a_real_difference_stays_f206(
    clean: Path, implicit: Path, tmp_path: Path, name: str, change: object
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    _changed(implicit / name, other / name, change)  # Implicit VR, and one value differs
    assert not same_instance(clean / name, other / name)
    result = build_medium([clean, other], tmp_path / "x.iso", CD)
    assert result.output is None
    assert _codes(result.findings) == {"F206": 1}


def test_pydicoms_mr_small_in_three_encodings_is_one_instance(tmp_path: Path) -> None:
    """pydicom's MR_small.dcm as Explicit VR LE, Implicit VR LE and Explicit VR Big Endian:
    files someone else encoded, with 16-bit pixel data that must compare word by word."""
    names = ("MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm")
    paths = [pydicom_file(n) for n in names]
    assert len({p.read_bytes() for p in paths}) == 3
    assert same_instance(paths[0], paths[2]) and same_instance(paths[2], paths[1])
    result = build_medium(paths, tmp_path / "mr.iso", CD, fmt="dir")
    assert result.output is not None and result.instances == 1
    assert _codes(result.findings) == {"F208": 2}
    kept = next((tmp_path / "mr.iso").glob("PT*/*/*/*"))
    assert kept.read_bytes() == paths[0].read_bytes()  # the first given, copied as it is


def test_big_endian_pixel_words_read_as_little_endian_are_another_image(tmp_path: Path) -> None:
    big = pydicom_file("MR_small_bigendian.dcm")
    data = bytearray(big.read_bytes())
    pixels = next(e for e in elements(bytes(data), little=False) if e.tag == 0x7FE00010)
    value = slice(pixels.value_at, pixels.value_at + pixels.length)
    words = data[value]
    words[0::2], words[1::2] = words[1::2], words[0::2]  # each word's bytes the other way round
    data[value] = words
    (tmp_path / "swapped.dcm").write_bytes(bytes(data))
    assert not same_instance(pydicom_file("MR_small.dcm"), tmp_path / "swapped.dcm")
    result = build_medium(
        [pydicom_file("MR_small.dcm"), tmp_path / "swapped.dcm"], tmp_path / "x.iso", CD
    )
    assert result.output is None and _codes(result.findings) == {"F206": 1}


def test_group_lengths_padding_and_file_meta_do_not_count(clean: Path, tmp_path: Path) -> None:
    ds = pydicom.dcmread(clean / "RP.photon.dcm")
    ds.add_new(0x00080000, "UL", 1234)  # a (wrong) group length
    ds.add_new(0xFFFCFFFC, "OB", b"\x00" * 16)  # trailing padding
    ds.file_meta.ImplementationVersionName = "OTHER_TOOL"
    ds.preamble = b"II*\x00" + b"\x00" * 124
    ds.save_as(tmp_path / "padded.dcm")
    assert same_instance(clean / "RP.photon.dcm", tmp_path / "padded.dcm")


# --- 3. what is DICOM, and what is never read --------------------------------------------


@pytest.mark.parametrize(
    ("head", "plausible"),
    [
        (b"\x08\x00\x05\x00\x0a\x00\x00\x00", True),  # Implicit VR LE, (0008,0005)
        (b"\x08\x00\x16\x00UI\x1a\x00", True),  # Explicit VR LE, (0008,0016)
        (b"\x00\x08\x00\x05CS\x00\x0a", True),  # Explicit VR BE, (0008,0005)
        (b"\x02\x00\x00\x00UL\x04\x00", True),  # File Meta without a preamble
        (b"\x04\x00\x30\x11CS\x00\x00", True),  # a bare directory, (0004,1130)
        (b"\x00" * 8, False),  # zeros: (0000,0000)
        (b"\x08\x00\x18\x00UI\x1a\x00", False),  # (0008,0018) first: no SOP Class UID
        (b"\x10\x00\x10\x00PN\x04\x00", False),  # Patient's Name first
        (b"\x00\x08\x00\x05\x00\x00\x00\x0a", False),  # "big endian" without a VR
        (b"%PDF-1.7", False),
        (b"PK\x03\x04\x14\x00\x00\x00", False),
        (b"\x08\x00\x05", False),  # too short
    ],
)
def test_which_first_bytes_can_begin_a_bare_dataset(head: bytes, plausible: bool) -> None:
    assert plausible_dataset_start(head) is plausible


class _Counting(io.BytesIO):
    """A stream that remembers how far it was read."""

    furthest = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return data


@pytest.mark.parametrize(
    "data",
    [b"\x00" * (8 << 20), b"\x00" * 128 + b"DICM" + b"\x00" * (8 << 20)],
    ids=["zeros", "DICM-then-zeros"],
)
def test_zeros_are_rejected_on_their_first_bytes(data: bytes) -> None:
    fp = _Counting(data)
    with pytest.raises(InputError) as caught:
        read_header_stream(fp, len(data), where="zeros")
    assert fp.furthest <= 4096, fp.furthest  # never walked: pydicom read it all before
    assert isinstance(caught.value, DamagedFileError) == data.startswith(b"\x00" * 128 + b"DICM")


def test_a_big_zero_file_in_a_folder_is_skipped_as_not_dicom(clean: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(clean, folder)
    with open(folder / "zeros.bin", "wb") as fp:
        fp.truncate(64 << 20)  # sparse: 64 MiB of zeros on no disk
    collected = collect([folder], tmp_path / "st", keywords=())
    assert [(f.code, f.path) for f in collected.findings] == [("F207", str(folder / "zeros.bin"))]


def _build_briefly(*args: object) -> subprocess.CompletedProcess[str]:
    """``mediakit build ARGS`` that must answer at once (it used to read forever or block)."""
    return subprocess.run(
        [sys.executable, "-m", "mediakit", "build", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_dev_zero_is_refused_without_being_read(tmp_path: Path) -> None:
    run = _build_briefly("/dev/zero", "-o", tmp_path / "z.iso")
    assert_one_line_error(run, 2, "/dev/zero", "not a regular file")


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    run = _build_briefly(fifo, "-o", tmp_path / "z.iso")
    assert_one_line_error(run, 2, str(fifo), "not a regular file")


def test_a_dicomdir_input_stands_for_its_medium(clean: Path, tmp_path: Path) -> None:
    medium = tmp_path / "medium"
    assert build_medium([clean], medium, CD, fmt="dir").output is not None
    run = run_cli("build", medium / "DICOMDIR", "-o", tmp_path / "again.iso", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    doc = json.loads(run.stdout)
    assert doc["instances"] == len(list(clean.iterdir())) and doc["findings"] == []


# --- check and import see damaged DICOM files too ----------------------------------------


def test_check_reports_a_damaged_file_no_record_references(clean: Path, tmp_path: Path) -> None:
    medium = tmp_path / "medium"
    assert build_medium([clean], medium, CD, fmt="dir").output is not None
    (medium / "SHA256.TXT").unlink()
    (medium / "EXTRA").write_bytes((clean / "RS.dcm").read_bytes()[:200])
    report = check_medium(medium, CD)
    assert [(f.code, f.path) for f in report.findings if f.severity.value == "error"] == [
        ("P109", "EXTRA")
    ]


def test_import_calls_a_cut_bare_dataset_unreadable(tmp_path: Path) -> None:
    export = tmp_path / "export"
    write_course(export, 7, n_slices=1, quirks=["no_meta"])
    data = (export / "RS.dcm").read_bytes()
    (export / "RS.dcm").write_bytes(data[:22])  # inside the header of (0008,0016)
    result = import_to_store(export, tmp_path / "store")
    cut = [r for r in result.instances if r.file_id == "RS.dcm"]
    assert [r.outcome.value for r in cut] == ["unreadable"], cut
