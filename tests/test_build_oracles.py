"""A built image, judged by tools we did not write: dicom3tools, DCMTK, genisoimage, xorriso.

The image is extracted by bsdtar (libarchive), never by our reader.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pydicom
import pytest

from tests.conftest import needs

pytestmark = pytest.mark.oracle


def run(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def instance_files(root: Path) -> list[Path]:
    """The DICOM files: not in the root (DICOMDIR, PDI files), not in IHE_PDI/."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.parent != root and p.relative_to(root).parts[0] != "IHE_PDI"
    )


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Error")]


@needs("dciodvfy")
def test_dciodvfy_finds_no_error_in_the_dicomdir(course_extracted: Path) -> None:
    check = run("dciodvfy", course_extracted / "DICOMDIR")
    assert "BasicDirectory" in check.stderr + check.stdout
    assert error_lines(check.stderr + check.stdout) == []


@needs("dciodvfy")
def test_dciodvfy_finds_no_error_in_any_instance(course_extracted: Path) -> None:
    for path in instance_files(course_extracted):
        check = run("dciodvfy", path)
        assert error_lines(check.stderr + check.stdout) == [], path


@needs("dcentvfy")
def test_dcentvfy_finds_the_entities_consistent(course_extracted: Path) -> None:
    """Patient, study, series and frame of reference agree across every file.

    dcentvfy asserts on 32-bit Pixel Data (media-facts §9), so the RT Dose is left
    out; its entities are the same as the plan's, which is in.
    """
    files = [
        p
        for p in instance_files(course_extracted)
        if pydicom.dcmread(p, stop_before_pixels=True).get("BitsAllocated") != 32
    ]
    assert len(files) == 10
    check = run("dcentvfy", *files)
    assert check.returncode == 0, check.stderr
    assert error_lines(check.stderr + check.stdout) == []


@needs("dcmftest")
def test_dcmftest_says_every_file_is_part10(course_extracted: Path) -> None:
    files = [course_extracted / "DICOMDIR", *instance_files(course_extracted)]
    check = run("dcmftest", *files)
    assert check.stdout.count("yes:") == len(files) == 12, check.stdout


@needs("dcmdump")
def test_dcmdump_reads_every_record_of_the_dicomdir(course_extracted: Path) -> None:
    dump = run("dcmdump", "-q", course_extracted / "DICOMDIR")
    assert dump.returncode == 0, dump.stderr
    types = Counter(re.findall(r'"Directory Record" (\w+(?: \w+)*) #', dump.stdout))
    assert types == Counter(
        {"PATIENT": 1, "STUDY": 1, "SERIES": 8, "IMAGE": 5, "RT PLAN": 2, "RT DOSE": 1}
        | {"RT STRUCTURE SET": 1, "RT TREAT RECORD": 1, "REGISTRATION": 1}
    )


@needs("dcmmkdir")
def test_dcmtk_chooses_the_same_record_types(course_extracted: Path, tmp_path: Path) -> None:
    """DCMTK maps SOP classes to record types by its own table; ours must agree."""
    ours = pydicom.dcmread(course_extracted / "DICOMDIR")
    theirs_path = tmp_path / "DICOMDIR"
    files = [str(p.relative_to(course_extracted)) for p in instance_files(course_extracted)]
    made = run("dcmmkdir", "-Pgp", "+D", theirs_path, *files, cwd=course_extracted)
    assert made.returncode == 0, made.stderr
    theirs = pydicom.dcmread(theirs_path)

    def leaves(ds: pydicom.Dataset) -> dict[str, str]:
        return {
            str(r.ReferencedSOPInstanceUIDInFile): str(r.DirectoryRecordType)
            for r in ds.DirectoryRecordSequence
            if "ReferencedSOPInstanceUIDInFile" in r
        }

    assert leaves(ours) == leaves(theirs) and len(leaves(ours)) == 11


@needs("isovfy")
def test_isovfy_finds_no_error(course_iso: Path) -> None:
    check = run("isovfy", course_iso)
    assert "No errors found" in check.stdout + check.stderr, check.stdout


@needs("isoinfo")
def test_isoinfo_volume_id_is_the_fileset_id(course_iso: Path) -> None:
    info = run("isoinfo", "-d", "-i", course_iso)
    assert re.search(r"^Volume id: MKTEST01$", info.stdout, re.M), info.stdout
    assert "NO Joliet present" in info.stdout and "NO Rock Ridge present" in info.stdout


@needs("isoinfo")
def test_every_name_is_iso9660_level1(course_iso: Path) -> None:
    listing = run("isoinfo", "-l", "-i", course_iso).stdout
    names = [line.split()[-1] for line in listing.splitlines() if line.startswith(("-", "d"))]
    files = [n for n in names if ";" in n]
    dirs = [n for n in names if ";" not in n and n not in (".", "..")]
    assert len(files) == 17  # 11 instances, DICOMDIR, SHA256.TXT, README, INDEX, 2 pages
    assert all(re.fullmatch(r"[A-Z0-9_]{1,8}\.[A-Z0-9_]{0,3};1", n) for n in files), files
    assert all(re.fullmatch(r"[A-Z0-9_]{1,8}", n) for n in dirs), dirs
    assert "DICOMDIR.;1" in files


@needs("xorriso")
def test_xorriso_reads_every_block(course_iso: Path) -> None:
    check = run("xorriso", "-abort_on", "FAILURE", "-indev", course_iso, "-check_media", "--")
    assert check.returncode == 0, check.stderr
    assert re.search(r"Media region :\s+0 ,\s+\d+ , \+ good", check.stdout), check.stdout


@needs("sha256sum")
def test_the_manifest_verifies_with_sha256sum(course_extracted: Path) -> None:
    check = run("sha256sum", "--check", "--strict", "SHA256.TXT", cwd=course_extracted)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 16  # 11 instances, the DICOMDIR, 4 PDI files
