"""IHE PDI content: README.TXT, INDEX.HTM and IHE_PDI/ on every CD/DVD/USB medium.

The pages are judged by tools we did not write: Python's XML parser (well-formed
XHTML), headless Chromium (it renders them: a screenshot that is not blank and a
DOM with the plan label), bsdtar (which extracts the image) and sha256sum.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pydicom
import pytest

from mediakit import IMPLEMENTATION_CLASS_UID, __version__
from mediakit.build import build_medium
from mediakit.check.runner import check_medium
from mediakit.findings import Severity
from mediakit.manifest import MANIFEST_NAME, parse_manifest
from mediakit.media import open_medium
from mediakit.pdi import applies
from mediakit.profiles import load_profile
from tests.conftest import run_cli

CD = load_profile("STD-GEN-CD")
PDI_FILES = {"README.TXT", "INDEX.HTM", "IHE_PDI/PATIENTS.HTM", "IHE_PDI/ST000001.HTM"}
XHTML = "{http://www.w3.org/1999/xhtml}"
# XHTML Basic 1.0's structure, text, hypertext, list, basic tables and meta elements.
BASIC = {"html", "head", "title", "meta", "body", "h1", "h2", "h3", "h4", "p", "br", "a", "em"}
BASIC |= {"strong", "ul", "ol", "li", "table", "caption", "tr", "th", "td", "div", "span"}
# Elements that run code or fetch something: none may appear on a PDI page.
ACTIVE = {"script", "link", "style", "img", "iframe", "object", "embed", "frame", "form", "base"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def names(medium: Path) -> set[str]:
    with open_medium(medium) as m:
        return {"/".join(f.parts) for f in m.files()}


def pages(root: Path) -> list[Path]:
    return sorted([root / "INDEX.HTM", *(root / "IHE_PDI").glob("*.HTM")])


def test_a_cd_gets_pdi_content_listed_in_its_manifest(course_iso: Path) -> None:
    assert names(course_iso) >= PDI_FILES
    with open_medium(course_iso) as m:
        manifest = next(f for f in m.files() if f.parts == (MANIFEST_NAME,))
        listed, problems = parse_manifest(m.read_bytes(manifest, 1 << 20))
    assert problems == [] and set(listed) >= PDI_FILES
    report = check_medium(course_iso, CD)  # no D115, V301, V306 for them
    assert [f.line() for f in report.findings if f.severity is not Severity.INFO] == []


def test_no_pdi_leaves_it_out(course_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bare.iso"
    run = run_cli("build", course_dir, "-o", out, "--no-pdi", "--json")
    assert run.returncode == 0, run.stderr
    assert not PDI_FILES & names(out)
    assert '"pdi": false' in run.stdout


def test_usb_gets_it_and_blu_ray_does_not() -> None:
    assert applies(load_profile("STD-GEN-USB-JPEG")) and applies(load_profile("STD-GEN-DVD-J2K"))
    assert applies(CD) and not applies(load_profile("STD-GEN-BD-JPEG"))


def test_a_usb_folder_has_it(course_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "usb"
    result = build_medium([course_dir], out, load_profile("STD-GEN-USB-JPEG"))
    assert result.pdi and all((out / n).is_file() for n in PDI_FILES)


def test_pages_are_plain_xhtml_with_links_that_stay_on_the_medium(course_extracted: Path) -> None:
    on_medium = {p.relative_to(course_extracted).as_posix() for p in course_extracted.rglob("*")}
    for page in pages(course_extracted):
        tree = ET.parse(page)  # well-formed XML, or this raises
        assert tree.getroot().tag == f"{XHTML}html"
        tags = {el.tag.removeprefix(XHTML) for el in tree.iter()}
        assert not tags & ACTIVE, (page, tags & ACTIVE)
        assert tags <= BASIC, (page, tags - BASIC)
        assert not any(a.startswith("on") for el in tree.iter() for a in el.attrib), page
        here = PurePosixPath(page.relative_to(course_extracted).as_posix()).parent
        for el in tree.iter(f"{XHTML}a"):
            href = el.attrib["href"]
            assert not re.match(r"^[a-z][a-z0-9+.-]*:|^/|^\\\\", href, re.I), (page, href)
            target = os.path.normpath(here / href)
            assert not target.startswith(".."), (page, href)
            assert target in on_medium, (page, href)  # exact case: as ISO 9660 has it


def test_every_name_is_8_3_upper_case(course_extracted: Path) -> None:
    for name in PDI_FILES:
        *dirs, base = name.split("/")
        assert re.fullmatch(r"[A-Z0-9_]{1,8}\.[A-Z0-9_]{1,3}", base), name
        assert all(re.fullmatch(r"[A-Z0-9_]{1,8}", d) for d in dirs), name
        assert (course_extracted / name).is_file()


def test_index_lists_patients_studies_and_rt_objects(course_extracted: Path) -> None:
    index = (course_extracted / "INDEX.HTM").read_text("utf-8")
    for text in ("MKTEST, COURSE7", "MK0007000", "MKTEST_PHOTON", "MKTEST_PROTON", "MKTEST_RS"):
        assert text in index, text
    assert "RT DOSE: GY PHYSICAL, summation PLAN" in index
    assert "STD-GEN-CD" in index and "MKTEST01" in index
    study = (course_extracted / "IHE_PDI" / "ST000001.HTM").read_text("utf-8")
    for text in ("SPINAL_CORD", "Planning CT", "PT000000/ST000000/SE000000", "MKLINAC1"):
        assert text in study, text


def test_readme_says_what_the_medium_is_who_made_it_and_with_what(
    course_extracted: Path,
) -> None:
    raw = (course_extracted / "README.TXT").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") > 10  # DOS lines: readable in Notepad
    text = raw.decode("ascii")
    for needle in (
        "MKTEST01",
        "STD-GEN-CD",
        "General Purpose CD-R Interchange",
        "IHE Portable Data for Imaging",
        f"mediakit {__version__}",
        IMPLEMENTATION_CLASS_UID,
        "Synthetic Institution",
        "11 DICOM instances",
    ):
        assert needle in text, needle
    assert "MKTEST^COURSE7" not in text and "MK0007000" not in text  # no patient data


def _hostile_course(course_dir: Path, folder: Path) -> Path:
    """The course, with a patient name and labels that are HTML."""
    shutil.copytree(course_dir, folder)
    for path in folder.iterdir():
        ds = pydicom.dcmread(path)
        ds.PatientName = "O'BRIEN & SONS<script>alert(1)</script>^ANN"
        if "RTPlanLabel" in ds:
            ds.RTPlanLabel = "<b>PLAN&1</b>"
        ds.save_as(path)
    return folder


def test_names_from_patient_data_are_escaped(course_dir: Path, tmp_path: Path) -> None:
    folder = _hostile_course(course_dir, tmp_path / "hostile")
    out = tmp_path / "h"
    result = build_medium([folder], out, CD, fmt="dir")
    assert result.output == out
    for page in pages(out):
        html = page.read_text("utf-8")
        assert "<script" not in html and "<b>" not in html, page
        tree = ET.parse(page)
        assert not {el.tag.removeprefix(XHTML) for el in tree.iter()} & ACTIVE
    index = (out / "INDEX.HTM").read_text("utf-8")
    assert "O&#39;BRIEN &amp; SONS&lt;script&gt;alert(1)&lt;/script&gt;, ANN" in index
    assert "&lt;b&gt;PLAN&amp;1&lt;/b&gt;" in index
    text = "".join(ET.parse(out / "INDEX.HTM").getroot().itertext())
    assert "O'BRIEN & SONS<script>alert(1)</script>, ANN" in text  # shown as written


def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium as root on a closed network: no sandbox, no background fetches."""
    assert CHROMIUM is not None
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.iterdir()))}"
    profile.mkdir()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=True
    )


@pytest.mark.oracle
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_chromium_renders_index_with_the_plan(course_extracted: Path, tmp_path: Path) -> None:
    from PIL import Image

    url = (course_extracted / "INDEX.HTM").as_uri()
    shot = tmp_path / "index.png"
    chromium(f"--screenshot={shot}", "--window-size=1024,768", url, tmp_path=tmp_path)
    with Image.open(shot) as image:
        grey = image.convert("L")
        assert grey.size == (1024, 768)
        dark = sum(grey.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 2000, f"the screenshot is (nearly) blank: {dark} dark pixels"
    dom = chromium("--dump-dom", url, tmp_path=tmp_path).stdout
    assert "MKTEST_PHOTON" in dom and "MKTEST, COURSE7" in dom
    assert "<script" not in dom


@pytest.mark.oracle
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_chromium_runs_no_script_from_a_hostile_name(course_dir: Path, tmp_path: Path) -> None:
    folder = _hostile_course(course_dir, tmp_path / "hostile")
    out = tmp_path / "h"
    build_medium([folder], out, CD, fmt="dir")
    dom = chromium("--dump-dom", (out / "INDEX.HTM").as_uri(), tmp_path=tmp_path).stdout
    assert "<script" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_a_medium_with_pdi_as_input_brings_only_its_instances(
    course_extracted: Path, tmp_path: Path
) -> None:
    """README.TXT, INDEX.HTM and IHE_PDI/ are rebuilt, never copied or reported (F207)."""
    result = build_medium([course_extracted], tmp_path / "again.iso", CD)
    assert result.instances == 11 and result.findings == ()


def test_pdi_pages_count_towards_capacity_and_fit(course_dir: Path, tmp_path: Path) -> None:
    """The per-volume allowance (V303's estimate) covers the PDI pages on a nearly full disc."""
    files = sum(p.stat().st_size for p in course_dir.iterdir())
    snug = replace(CD, capacity_bytes=files + 11 * (2048 + 512) + (1 << 20))
    result = build_medium([course_dir], tmp_path / "snug.iso", snug)
    assert result.output is not None and result.pdi
