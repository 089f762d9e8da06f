"""IHE Portable Data for Imaging (PDI) content: README.TXT, INDEX.HTM and IHE_PDI/ pages.

IHE RAD TF-3 §4.47 (Distribute Imaging Information on Media) puts beside the
DICOMDIR a ``README.TXT`` (what the medium is, who made it, with what) and, for
"DICOM plus web" media, an ``INDEX.HTM`` with web pages in ``IHE_PDI/`` that
any browser shows: plain XHTML, no scripts, nothing outside the medium, ISO
9660 Level 1 (8.3) names. None of these files is DICOM, so no directory record
references them (PS3.10 §8.1 lets a File-set hold them).

The pages list the patients, studies and series of the volume and, for every RT
object, what ``mediakit ls`` shows of it (:func:`mediakit.rt.summarise`, the
same summaries): plan labels, beams, fractions and prescription, structure set
ROIs, dose units and summation, treatment records. Text comes from patient data
and is escaped by Jinja2's autoescape. Pure: :func:`render_pdi` returns the
files' bytes by File ID; the builder writes them and lists them in the manifest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName

from mediakit.dicomdir.model import Record
from mediakit.findings import plural
from mediakit.profiles import Profile
from mediakit.render import rt_line
from mediakit.rt import build_graph, summarise

#: File IDs (names in the root, 8.3) and the folder of the web content (RAD TF-3 4.47.4.1).
README: Final = ("README.TXT",)
INDEX: Final = ("INDEX.HTM",)
FOLDER: Final = "IHE_PDI"
#: Attributes the pages show beyond the DICOMDIR keys: pass them to ``read_header``.
KEYWORDS: Final = (
    "PatientBirthDate",
    "PatientSex",
    "StudyDescription",
    "SeriesDescription",
    "InstitutionName",
)
# Media PDI defines: CD-R (the profile's base), and the DVD and USB options. Not BD.
_PDI_MEDIA: Final = frozenset({"CD-R", "DVD-ROM/DVD±R/RW", "USB/flash"})


def applies(profile: Profile) -> bool:
    """Whether PDI content is written by default on this profile's medium."""
    return profile.medium in _PDI_MEDIA


@dataclass(frozen=True)
class MediumInfo:
    """What README.TXT and INDEX.HTM say about the medium itself."""

    volume_id: str
    profile: Profile
    software: str  # e.g. "mediakit 0.1.0"
    implementation_class_uid: str
    created: str  # date and time, UTC, ISO 8601
    volume: int = 1
    volumes: int = 1
    deidentified: bool = False
    others: tuple[str, ...] = field(default=())  # volume ids of the other volumes of a split


def _text(ds: Dataset | None, kw: str) -> str:
    if ds is None or kw not in ds or ds[kw].value is None or ds[kw].VR == "SQ":
        return ""
    return str(ds[kw].value).strip()


def _person(ds: Dataset | None) -> str:
    """Patient's Name as people write it: 'FAMILY, GIVEN MIDDLE'."""
    if ds is None or "PatientName" not in ds or not ds.PatientName:
        return ""
    name = ds.PatientName
    if not isinstance(name, PersonName):
        name = PersonName(str(name))
    given = " ".join(p for p in (name.given_name, name.middle_name) if p)
    family = name.family_name
    return ", ".join(p for p in (family, given) if p) or str(name)


def _leaves(rec: Record) -> Iterator[Record]:
    for _, r in rec.walk():
        if r.file_id is not None and r.sop_instance_uid:
            yield r


def course(roots: Sequence[Record], headers: Mapping[str, Dataset]) -> list[dict[str, Any]]:
    """Patients > studies > series and RT objects of one volume, from its layout.

    ``roots`` is the volume's PATIENT records (the layout); ``headers`` maps each
    SOP Instance UID to its header (with ``rt.KEYWORDS`` and :data:`KEYWORDS`).
    """
    leaves = [r for root in roots for r in _leaves(root)]
    graph = build_graph(
        ("/".join(r.file_id or ()), headers[r.sop_instance_uid or ""]) for r in leaves
    )
    patients, page = [], 0
    for p_rec in roots:
        first = next((headers.get(r.sop_instance_uid or "") for r in _leaves(p_rec)), None)
        studies = []
        for s_rec in p_rec.children:
            page += 1
            series, rt_objects = [], []
            for se_rec in s_rec.children:
                items = [r for r in se_rec.children if r.file_id is not None]
                head = headers.get(items[0].sop_instance_uid or "") if items else None
                folder = "/".join(items[0].file_id[:-1]) if items and items[0].file_id else ""
                series.append(
                    {
                        "modality": _text(se_rec.keys, "Modality"),
                        "number": _text(se_rec.keys, "SeriesNumber"),
                        "description": _text(head, "SeriesDescription"),
                        "uid": _text(se_rec.keys, "SeriesInstanceUID"),
                        "count": len(items),
                        "record_types": sorted({r.record_type for r in items}),
                        "folder": folder,
                    }
                )
                for r in items:
                    node = graph.nodes.get(r.sop_instance_uid or "")
                    summary = summarise(node, graph) if node is not None else None
                    if node is not None and summary is not None:
                        rt_objects.append(
                            {**summary, "line": rt_line(summary), "file_id": node.where}
                        )
            studies.append(
                {
                    "page": f"ST{page:06d}.HTM",
                    "date": _text(s_rec.keys, "StudyDate"),
                    "time": _text(s_rec.keys, "StudyTime"),
                    "id": _text(s_rec.keys, "StudyID"),
                    "accession": _text(s_rec.keys, "AccessionNumber"),
                    "description": _text(s_rec.keys, "StudyDescription")
                    or _text(first, "StudyDescription"),
                    "uid": _text(s_rec.keys, "StudyInstanceUID"),
                    "series": series,
                    "rt": rt_objects,
                }
            )
        patients.append(
            {
                "name": _person(p_rec.keys) or _person(first),
                "id": _text(p_rec.keys, "PatientID"),
                "birth_date": _text(p_rec.keys, "PatientBirthDate")
                or _text(first, "PatientBirthDate"),
                "sex": _text(p_rec.keys, "PatientSex") or _text(first, "PatientSex"),
                "studies": studies,
            }
        )
    return patients


def institutions(headers: Mapping[str, Dataset]) -> tuple[str, ...]:
    """Institution Names found in the headers: who made the content."""
    return tuple(sorted({t for ds in headers.values() if (t := _text(ds, "InstitutionName"))}))


def _date(text: str) -> str:
    """A DA value as YYYY-MM-DD (left alone when it is not 8 digits)."""
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


@cache
def _environment() -> Environment:
    """The templates in ``mediakit/templates``; ``.htm`` ones autoescaped, README.TXT not."""
    env = Environment(
        loader=PackageLoader("mediakit", "templates"),
        autoescape=select_autoescape(enabled_extensions=("htm",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = _date
    env.filters["counted"] = plural  # {{ counts.studies | counted("study") }}: "1 study"
    return env


def render_pdi(
    patients: list[dict[str, Any]], info: MediumInfo, *, institutions: Sequence[str] = ()
) -> dict[tuple[str, ...], bytes]:
    """README.TXT, INDEX.HTM and the IHE_PDI/ pages of one volume, by File ID."""
    env = _environment()
    counts = {
        "patients": len(patients),
        "studies": sum(len(p["studies"]) for p in patients),
        "series": sum(len(s["series"]) for p in patients for s in p["studies"]),
        "instances": sum(se["count"] for p in patients for s in p["studies"] for se in s["series"]),
    }
    context = {
        "info": info,
        "patients": patients,
        "counts": counts,
        "institutions": list(institutions),
        "folder": FOLDER,
    }
    files: dict[tuple[str, ...], bytes] = {
        INDEX: env.get_template("index.htm").render(context, up="").encode("utf-8"),
        (FOLDER, "PATIENTS.HTM"): env.get_template("patients.htm")
        .render(context, up="../")
        .encode("utf-8"),
    }
    for patient in patients:
        for study in patient["studies"]:
            page = env.get_template("study.htm").render(
                context, up="../", patient=patient, study=study
            )
            files[(FOLDER, study["page"])] = page.encode("utf-8")
    readme = env.get_template("readme.txt").render(context)
    files[README] = "\r\n".join(readme.splitlines()).encode("utf-8") + b"\r\n"
    return files


__all__ = [
    "FOLDER",
    "INDEX",
    "KEYWORDS",
    "README",
    "MediumInfo",
    "applies",
    "course",
    "institutions",
    "render_pdi",
]
