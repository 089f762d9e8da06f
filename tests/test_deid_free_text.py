"""--deidentify: the patient's identity in free text, RT labels and coded values, per patient.

Each test builds the synthetic course with one way the identity hides (an ID glued to a
word, a written birth date, an ASCII-folded name, a nested Person Name, several patients)
and searches the whole medium (every element of every file, the DICOMDIR's records, the raw
bytes of the PDI pages) for it, with tests/test_deid.py's search. tests/test_deid_identity.py
pins the matching rules of mediakit.deid.identity down one by one.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from fixtures.rtcourse import write_course
from mediakit.build import BuildResult, build_medium
from mediakit.findings import Finding
from mediakit.media import open_medium
from mediakit.profiles import load_profile
from tests.test_deid import BIRTH, NAME, PATIENT_ID, SECRET, leaks

CD = load_profile("STD-GEN-CD")


def _built(
    course_dir: Path, tmp_path: Path, edit: Callable[[Dataset], None]
) -> tuple[Path, BuildResult, dict[str, Any]]:
    """The course with ``edit`` applied to every file, de-identified; (medium, result, map)."""
    folder = tmp_path / "export"
    shutil.copytree(course_dir, folder)
    for path in sorted(folder.iterdir()):
        ds = pydicom.dcmread(path)
        edit(ds)
        ds.save_as(path)
    out, keep = tmp_path / "d.iso", tmp_path / "map.json"
    result = build_medium([folder], out, CD, deidentify=True, secret=SECRET, keep_map=keep)
    assert result.output == out, [f.line() for f in result.findings]
    return out, result, json.loads(keep.read_text("utf-8"))


def _datasets(medium: Path) -> list[Dataset]:
    with open_medium(medium) as m:
        return [
            pydicom.dcmread(io.BytesIO(m.read_bytes(f, 1 << 26)))
            for f in m.files()
            if f.parts[0].startswith("PT")
        ]


def _dicomdir(medium: Path) -> Dataset:
    with open_medium(medium) as m:
        (f,) = [f for f in m.files() if f.parts == ("DICOMDIR",)]
        return pydicom.dcmread(io.BytesIO(m.read_bytes(f, 1 << 26)))


def _messages(result: BuildResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


def _plan(datasets: list[Dataset]) -> Dataset:
    return next(ds for ds in datasets if ds.SOPClassUID.name == "RT Plan Storage")


# --- 1. an ID joined to letters or digits ---------------------------------------------------


def test_an_id_joined_to_letters_or_digits_is_replaced_everywhere(
    course_dir: Path, tmp_path: Path
) -> None:
    def edit(ds: Dataset) -> None:
        ds.StudyDescription = "Course MK0007000plan"
        ds.SeriesDescription = "ref 12mk0007000, Pat-Nr. 0007000"

    out, result, mapping = _built(course_dir, tmp_path, edit)
    assert leaks(out, (PATIENT_ID, "0007000")) == []  # files, DICOMDIR records, PDI pages
    new_id = mapping["patients"][0]["pseudonym"]["patient_id"]
    study = next(
        r for r in _dicomdir(out).DirectoryRecordSequence if r.DirectoryRecordType == "STUDY"
    )
    assert study.StudyDescription == f"Course {new_id}plan"
    assert all(ds.SeriesDescription == f"ref 12{new_id}, Pat-Nr. {new_id}" for ds in _datasets(out))
    x701 = _messages(result, "X701")
    assert len(x701) == 11 and all("StudyDescription, SeriesDescription" in f.message for f in x701)
    if shutil.which("bsdtar") is not None:  # the pages as a browser reads them
        pages = tmp_path / "pages"
        pages.mkdir()
        subprocess.run(["bsdtar", "-xf", str(out), "-C", str(pages)], check=True)
        for page in ("INDEX.HTM", "IHE_PDI/PATIENTS.HTM", "IHE_PDI/ST000001.HTM"):
            text = (pages / page).read_text("utf-8")
            assert "0007000" not in text, page


# --- 2. the birth date as people write it ---------------------------------------------------


WRITTEN = ("1944-05-01", "01.05.1944", "05/01/1944", "1.5.1944", "1 May 1944", "01-May-1944")


def test_the_birth_date_is_found_in_its_written_forms(course_dir: Path, tmp_path: Path) -> None:
    def edit(ds: Dataset) -> None:
        ds.SeriesDescription = "DOB 1944-05-01 / 01.05.1944"
        ds.ImageComments = "born 05/01/1944 (1.5.1944), 1 May 1944, 01-May-1944"

    out, result, mapping = _built(course_dir, tmp_path, edit)
    assert leaks(out, tuple(w.upper() for w in WRITTEN)) == []
    moved = date(1944, 5, 1) + timedelta(days=mapping["date_shift_days"])
    for ds in _datasets(out):  # the shifted birth date, in the form it was written in
        assert ds.SeriesDescription == f"DOB {moved:%Y-%m-%d} / {moved:%d.%m.%Y}"
        assert ds.ImageComments.startswith(f"born {moved:%m/%d/%Y} ({moved.day}.{moved.month}.")
    assert all("SeriesDescription" in f.message for f in _messages(result, "X701"))


# --- 3. coded values are never rewritten; RT labels keep their clinical words ------------------


def _roi_names(datasets: list[Dataset]) -> list[str]:
    ss = next(ds for ds in datasets if ds.SOPClassUID.name == "RT Structure Set Storage")
    return [str(r.ROIName) for r in ss.StructureSetROISequence]


def _interpreted(datasets: list[Dataset]) -> list[str]:
    ss = next(ds for ds in datasets if ds.SOPClassUID.name == "RT Structure Set Storage")
    return [str(o.RTROIInterpretedType) for o in ss.RTROIObservationsSequence]


def test_a_patient_named_like_a_coded_value_leaves_the_code_alone(
    course_dir: Path, tmp_path: Path
) -> None:
    def edit(ds: Dataset) -> None:
        ds.PatientName = "ORGAN^PAT"
        ds.StudyDescription = "Pat Organ, prostate"

    out, result, _ = _built(course_dir, tmp_path, edit)
    new = _datasets(out)
    assert _interpreted(new) == ["EXTERNAL", "PTV", "ORGAN"]  # CS: Defined Terms, untouched
    assert not [ds for ds in new if "ORGAN" in str(ds.StudyDescription).upper()]  # free text
    assert not [f for f in result.findings if "RTROIInterpretedType" in f.message]


def test_an_organ_named_like_the_patient_keeps_its_name(course_dir: Path, tmp_path: Path) -> None:
    def edit(ds: Dataset) -> None:
        ds.PatientName = "HEART^ROSE"
        ds.StudyDescription = "Rose Heart: heart sparing"
        for roi in ds.get("StructureSetROISequence", []):
            if roi.ROIName == "SPINAL_CORD":
                roi.ROIName = "HEART"
        if "RTPlanLabel" in ds:
            ds.RTPlanLabel = "ROSE_HEART"  # the whole name is the patient, whatever the words

    out, result, _ = _built(course_dir, tmp_path, edit)
    new = _datasets(out)
    assert _roi_names(new) == ["BODY", "PTV", "HEART"]
    pseudonym = str(new[0].PatientName).split("^")
    assert {str(ds.StudyDescription) for ds in new} == {
        f"{pseudonym[1]} {pseudonym[0]}: {pseudonym[0]} sparing"  # free text: every part
    }
    label = str(_plan(new).RTPlanLabel)
    assert label == f"{pseudonym[1]}_{pseudonym[0]}"[:16]
    assert leaks(out, ("ROSE",)) == []
    x703 = [f for f in _messages(result, "X703") if f.path.endswith("RP.photon.dcm")]
    assert len(x703) == 1 and f"RTPlanLabel '{label}'" in x703[0].message
    assert not [f for f in result.findings if "ROIName" in f.message]


def test_rt_labels_lose_the_identity_and_say_so(course_dir: Path, tmp_path: Path) -> None:
    """The course's own labels (MKTEST_RS, MKTEST_PHOTON, MKTEST_REG, a CS): X703, new value."""

    def edit(ds: Dataset) -> None:
        for roi in ds.get("StructureSetROISequence", []):
            if roi.ROIName == "PTV":
                roi.ROIName = "PTV_Course7"  # a given name, in an ROI name

    out, result, _ = _built(course_dir, tmp_path, edit)
    new = _datasets(out)
    family, given = str(new[0].PatientName).split("^")[:2]
    x703 = {Path(f.path).name: f.message for f in _messages(result, "X703")}
    assert f"StructureSetLabel '{family}_RS'" in x703["RS.dcm"]
    assert f"ROIName 'PTV_{given}'" in x703["RS.dcm"]
    assert f"ContentLabel '{family}_REG'" in x703["REG.dcm"]  # Content Label is CS: a label
    label = str(_plan(new).RTPlanLabel)
    assert label == f"{family}_PHOTON"[:16] and f"RTPlanLabel '{label}'" in x703["RP.photon.dcm"]
    assert "RTImageLabel" in x703["RI.dcm"]
    assert not [f for f in result.findings if f.code == "X701" and "Label" in f.message]
    assert leaks(out, ("MKTEST", "COURSE7")) == []


def test_an_id_in_a_coded_value_is_reported_not_rewritten(course_dir: Path, tmp_path: Path) -> None:
    def edit(ds: Dataset) -> None:
        if ds.Modality == "CT":
            ds.ScanOptions = PATIENT_ID  # CS: a vendor's misuse; rewriting it could break it

    out, result, _ = _built(course_dir, tmp_path, edit)
    assert {str(ds.ScanOptions) for ds in _datasets(out) if ds.Modality == "CT"} == {PATIENT_ID}
    x704 = _messages(result, "X704")
    assert len(x704) == 4 and all("ScanOptions" in f.message for f in x704)
    assert all(PATIENT_ID not in f.message for f in x704)


# --- 4. several patients: each their own pseudonym --------------------------------------------


def test_patients_who_share_name_parts_keep_their_own_pseudonyms(tmp_path: Path) -> None:
    """MKTEST^COURSE7, MKTEST^COURSE7^P001, ...: one shared term table gave all one name."""
    folder = tmp_path / "three"
    write_course(folder, 7, patients=3)
    out = tmp_path / "d.iso"
    result = build_medium([folder], out, CD, deidentify=True, secret=SECRET)
    assert result.output == out
    plans = [ds for ds in _datasets(out) if ds.SOPClassUID.name == "RT Plan Storage"]
    families = {str(ds.PatientName).split("^")[0] for ds in plans}
    assert len(plans) == 3 and len(families) == 3
    for ds in plans:
        assert str(ds.RTPlanLabel).startswith(str(ds.PatientName).split("^")[0] + "_")
        assert str(ds.RTPlanName).startswith(str(ds.PatientName).split("^")[0] + "_")


# --- 5. ASCII-folded names ---------------------------------------------------------------


def test_a_folded_name_is_still_the_name(course_dir: Path, tmp_path: Path) -> None:
    def edit(ds: Dataset) -> None:
        ds.PatientName = "MÜLLER^JÖRG"
        ds.PatientID = "4711X"
        ds.StudyDescription = "Herr Jörg Müller, MUELLER J."
        ds.ImageComments = "joerg mueller / JORG MULLER"
        if "RTPlanLabel" in ds:
            ds.RTPlanLabel = "MULLER_PROST"  # how planning systems spell it
            ds.RTPlanName = "Müller prostate"

    out, _, _ = _built(course_dir, tmp_path, edit)
    assert leaks(out, ("MÜLLER", "MULLER", "MUELLER", "JÖRG", "JORG", "JOERG", "4711X")) == []
    new = _datasets(out)
    family = str(new[0].PatientName).split("^")[0]
    assert str(_plan(new).RTPlanLabel) == f"{family}_PROST"[:16]
    assert str(_plan(new).RTPlanName) == f"{family} prostate"


# --- 6. the patient's name wherever it is; the attributes E.1-1 removes ------------------------


def test_the_patient_has_one_pseudonym_wherever_the_name_is(
    course_dir: Path, tmp_path: Path
) -> None:
    def edit(ds: Dataset) -> None:
        person = Dataset()
        person.ValueType = "PNAME"
        person.PersonName = "mktest^course7^^^"  # the same person, written otherwise
        ds.ContentSequence = Sequence([person])
        ds.ReferringPhysicianName = NAME

    out, _, _ = _built(course_dir, tmp_path, edit)
    for ds in _datasets(out):
        assert ds.ContentSequence[0].PersonName == ds.PatientName
        assert ds.ReferringPhysicianName == ds.PatientName


REMOVED = {  # PS3.15 Table E.1-1 action X; the last two beyond the table (profiles/deid.toml)
    "PatientBirthTime", "OtherPatientNames", "PatientComments", "AdditionalPatientHistory",
    "OtherPatientIDsSequence", "IssuerOfPatientID", "PatientBirthDateInAlternativeCalendar",
    "GroupOfPatientsIdentificationSequence",
}  # fmt: skip


def test_identity_attributes_that_e11_removes_are_removed(course_dir: Path, tmp_path: Path) -> None:
    def edit(ds: Dataset) -> None:
        ds.PatientBirthTime = "031415"
        ds.OtherPatientNames = NAME
        ds.PatientComments = "prefers mornings"
        ds.AdditionalPatientHistory = "seen 1999"
        ds.PatientBirthDateInAlternativeCalendar = BIRTH
        other = Dataset()
        other.PatientID = PATIENT_ID
        other.TypeOfPatientID = "TEXT"
        ds.OtherPatientIDsSequence = Sequence([other])
        group = Dataset()
        group.PatientID = PATIENT_ID
        group.PatientBirthTime = "031415"  # nested: removed too
        ds.GroupOfPatientsIdentificationSequence = Sequence([group])
        ds.IssuerOfPatientID = "ISSUER-XQ"

    out, _, _ = _built(course_dir, tmp_path, edit)
    for ds in _datasets(out):
        assert [e.keyword for e in ds.iterall() if e.keyword in REMOVED] == []
        assert "PatientBirthTime" not in ds and "PatientBirthDate" in ds  # Z: kept, shifted
    assert leaks(out, ("031415", "ISSUER-XQ", "PREFERS MORNINGS", "SEEN 1999")) == []
