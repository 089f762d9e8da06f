"""De-identification that keeps an RT course usable (PS3.15 Annex E), built on dicognito.

:func:`deidentify` runs between collect and normalise: every instance is
re-encoded into a new file in the staging folder (the user's input is never
touched), so the DICOMDIR, the PDI pages and the manifest are all made from
de-identified headers. dicognito does the work (names, IDs, addresses,
institutions, UIDs, dates); mediakit only adds what an RT course needs:

- **UIDs** are replaced by one mapping for the whole build (dicognito's, seeded
  once), so plan -> structure set -> images -> dose -> records and every Frame
  of Reference stay linked. UIDs of the DICOM registry (SOP Classes, transfer
  syntaxes, coding schemes, well-known frames) are kept, as are ``...ClassUID``.
- **Dates** move by a whole number of days, the same for every instance, so
  times of day and every interval in the course are kept (dicognito's own
  offset is in hours and would move some dates by one day more than others).
- **The pseudonym** is one per Patient ID, whatever other attributes an
  instance has (dicognito picks first names by sex, which may differ between
  exports of one patient).
- **Private elements** are removed (PS3.15 E.1-1: private attributes, X).
- **Free text** that repeats the patient's name, ID or birth date (a plan label
  ``SMITH_PROSTATE``) has it replaced by the pseudonym, reported as X701.

Afterwards the RT rules run again: a reference that was intact before and is
broken after is a bug, never a finding (InternalError).
"""

from __future__ import annotations

import copy
import re
import secrets
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from random import Random
from typing import Any, Final

import dicognito
from dicognito.anonymizer import Anonymizer
from dicognito.datetimeanonymizer import DateTimeAnonymizer
from dicognito.element_anonymizer import ElementAnonymizer
from dicognito.randomizer import Randomizer
from dicognito.uianonymizer import UIAnonymizer
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.uid import UID
from pydicom.valuerep import MAX_VALUE_LEN

from mediakit import __version__
from mediakit.check.rt import rt_findings
from mediakit.errors import InputError, InternalError
from mediakit.findings import Finding, finding
from mediakit.inputs import Collected, Instance
from mediakit.part10 import read_header, rewrite, target_syntax
from mediakit.profiles import Profile

#: Attributes :func:`deidentify` needs in the collected headers (besides the layout's).
KEYWORDS: Final = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")

# PS3.15 E.3.6 Retain Longitudinal Temporal Information with Modified Dates: shifted back
# by 62 to 730 days, dicognito's range.
_SHIFT_DAYS: Final = (62, 730)
_TEXT_VRS: Final = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
_METHOD: Final = f"MEDIAKIT {__version__} RT: DICOGNITO {dicognito.__version__}"[:64]


@dataclass(frozen=True, slots=True)
class Pseudonym:
    """One patient: the original identity and what replaced it."""

    original_id: str
    original_name: str
    original_birth_date: str
    patient_id: str
    patient_name: str
    birth_date: str


@dataclass(frozen=True)
class Deidentified:
    """The de-identified instances (copies in staging) and how they were made."""

    collected: Collected  # the same instances, in the same order, with new paths and headers
    findings: tuple[Finding, ...]
    patients: tuple[Pseudonym, ...]
    uids: Mapping[str, str]  # original UID -> replacement, every UID replaced
    date_shift_days: int  # negative: dates moved back

    def mapping(self) -> dict[str, Any]:
        """The re-identification key written by ``--keep-map`` (keys documented in the README)."""
        return {
            "format": 1,
            "tool": f"mediakit {__version__}, dicognito {dicognito.__version__}",
            "date_shift_days": self.date_shift_days,
            "patients": [
                {
                    "original": {
                        "patient_id": p.original_id,
                        "patient_name": p.original_name,
                        "birth_date": p.original_birth_date,
                    },
                    "pseudonym": {
                        "patient_id": p.patient_id,
                        "patient_name": p.patient_name,
                        "birth_date": p.birth_date,
                    },
                }
                for p in self.patients
            ],
            "uids": dict(sorted(self.uids.items())),
        }


class _UIDs(ElementAnonymizer):
    """dicognito's UID replacement, keeping registry UIDs and recording the mapping."""

    def __init__(self, randomizer: Randomizer, seen: dict[str, str]) -> None:
        self._inner = UIAnonymizer(randomizer)
        self._seen = seen

    def __call__(self, dataset: Dataset, data_element: DataElement) -> bool:
        if data_element.VR != "UI" or not data_element.value:
            return False
        values = _values(data_element)
        if all(_registered(v) for v in values):
            return True  # a SOP Class, transfer syntax or well-known UID: keep it
        before = [str(v) for v in values]
        if not self._inner(dataset, data_element):
            return False  # a ...ClassUID or the transfer syntax: dicognito keeps it
        after = [str(v) for v in _values(data_element)]
        kept = [b if _registered(b) else a for b, a in zip(before, after, strict=True)]
        data_element.value = kept if len(kept) > 1 else kept[0]
        self._seen.update((b, a) for b, a in zip(before, kept, strict=True) if b != a)
        return True

    def describe_actions(self) -> Iterator[str]:
        yield "Replace UI elements (not registry UIDs) with consistent new UIDs"


class _Dates(ElementAnonymizer):
    """DA and DT shifted by whole days; a value dicognito cannot parse is emptied (X702)."""

    def __init__(self, days: int, problems: list[str]) -> None:
        self._inner = DateTimeAnonymizer(days * 24)
        self._problems = problems

    def __call__(self, dataset: Dataset, data_element: DataElement) -> bool:
        try:
            return self._inner(dataset, data_element)
        except (ValueError, TypeError):
            self._problems.append(data_element.keyword or str(data_element.tag))
            data_element.value = ""
            return True

    def describe_actions(self) -> Iterator[str]:
        yield "Shift DA and DT values back by the same whole number of days"


def _registered(value: object) -> bool:
    """A UID of the DICOM registry (PS3.6 Annex A): it names a thing, not an instance."""
    return UID(str(value)).name != str(value)


def _values(elem: DataElement) -> list[Any]:
    value = elem.value
    return list(value) if isinstance(value, MultiValue | list) else [value]


def _text(ds: Dataset, kw: str) -> str:
    value = ds.get(kw, "")
    return "" if value is None else str(value).strip()


class _Identity:
    """The original identities of the course and their pseudonyms, for free-text search."""

    def __init__(self, patients: Sequence[Pseudonym]) -> None:
        terms: dict[str, str] = {}
        for p in patients:
            terms.update(_terms(p.original_name, p.patient_name))
            for old, new in ((p.original_id, p.patient_id), (p.original_birth_date, p.birth_date)):
                if len(old) >= 3:
                    terms[old.lower()] = new
        self._terms = terms
        words = sorted(terms, key=len, reverse=True)
        body = "|".join(map(re.escape, words)) or r"(?!)"
        self.pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])", re.IGNORECASE)

    def replace(self, text: str) -> str:
        return self.pattern.sub(lambda m: self._terms[m[0].lower()], text)


def _terms(original: str, pseudonym: str) -> dict[str, str]:
    """Ways free text repeats a name: FAMILY^GIVEN, 'GIVEN FAMILY', 'FAMILY, GIVEN', each part."""
    old = [p.strip() for p in original.split("^")]
    new = [p.strip() for p in pseudonym.split("^")] + [""] * 5
    out: dict[str, str] = {}
    if original.strip("^ "):
        out[original.strip("^ ").lower()] = pseudonym.strip("^ ")
    if len(old) >= 2 and old[0] and old[1]:
        out[f"{old[1]} {old[0]}".lower()] = f"{new[1]} {new[0]}"
        out[f"{old[0]} {old[1]}".lower()] = f"{new[0]} {new[1]}"
        out[f"{old[0]}, {old[1]}".lower()] = f"{new[0]}, {new[1]}"
    for i, part in enumerate(old[:3]):
        if len(part) >= 3:  # initials and two-letter parts match too much clinical text
            out[part.lower()] = new[i] or new[0]
    return out


def _scrub(ds: Dataset, identity: _Identity) -> list[str]:
    """Replace the original identity wherever free text repeats it; the attributes changed."""
    changed: list[str] = []

    def visit(dataset: Dataset, elem: DataElement) -> None:
        if elem.VR == "UN" and isinstance(elem.value, bytes):
            if identity.pattern.search(elem.value.decode("latin-1")):
                del dataset[elem.tag]  # unknown encoding: cannot be edited, only removed
                changed.append(str(elem.tag))
            return
        if elem.VR not in _TEXT_VRS or not elem.value:
            return
        old = [str(v) for v in _values(elem)]
        new = [identity.replace(v) for v in old]
        if new != old:
            limit = MAX_VALUE_LEN.get(str(elem.VR))
            new = [v[:limit] if limit else v for v in new]
            elem.value = new if len(new) > 1 else new[0]
            changed.append(elem.keyword or str(elem.tag))

    ds.walk(visit)
    return changed


class _Engine:
    """One dicognito Anonymizer for the whole build, with the RT extensions."""

    def __init__(self, secret: str) -> None:
        self.days = -Random(secret).randint(*_SHIFT_DAYS)
        self.uids: dict[str, str] = {}
        self.bad_dates: list[str] = []
        self.anonymizer = Anonymizer(seed=secret)
        # Handlers added later run first; the first that takes an element wins.
        self.anonymizer.add_element_handler(_Dates(self.days, self.bad_dates))
        self.anonymizer.add_element_handler(_UIDs(Randomizer(secret), self.uids))

    def pseudonym(self, head: Dataset) -> Pseudonym:
        """What dicognito makes of one patient's identity (the same for every instance)."""
        probe = Dataset()
        probe.file_meta = FileMetaDataset()
        for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex"):
            if _text(head, kw):
                probe[kw] = copy.deepcopy(head[kw])  # the header itself stays as it was
        self.anonymizer.anonymize(probe)
        return Pseudonym(
            _text(head, "PatientID"),
            _text(head, "PatientName"),
            _text(head, "PatientBirthDate"),
            _text(probe, "PatientID"),
            _text(probe, "PatientName"),
            _text(probe, "PatientBirthDate"),
        )


def deidentify(
    collected: Collected,
    staging: Path,
    profile: Profile,
    *,
    keywords: Collection[str],
    secret: str | None = None,
) -> Deidentified:
    """De-identify every instance into ``staging``; return them with their new headers.

    Parameters
    ----------
    collected
        The instances to de-identify (their headers must carry :data:`KEYWORDS`).
    staging
        A folder for the de-identified copies (created).
    profile
        Uncompressed files are written in a syntax it allows; others keep theirs.
    keywords
        Attributes to keep in the new headers (the build's).
    secret
        Seeds every replacement; random when None, so two runs give unrelated pseudonyms.

    Raises
    ------
    InputError
        When an instance cannot be read or written back.
    InternalError
        When an RT reference intact before de-identification is broken after it.
    """
    engine = _Engine(secret if secret is not None else secrets.token_hex(32))
    patients: dict[str, Pseudonym] = {}
    for inst in collected.instances:
        key = _patient_key(inst.header.keys)
        if key not in patients:
            patients[key] = engine.pseudonym(inst.header.keys)
    identity = _Identity(list(patients.values()))
    staging.mkdir(parents=True, exist_ok=True)
    found: list[Finding] = []
    done: list[Instance] = []
    for n, inst in enumerate(collected.instances):
        dst = staging / f"de{n:08d}"
        h = inst.header
        ts = target_syntax(h, profile.transfer_syntaxes) or h.transfer_syntax
        changed: list[str] = []
        engine.bad_dates.clear()
        rewrite(
            inst.path,
            dst,
            h,
            ts,
            transform=_transform(engine, patients[_patient_key(h.keys)], identity, changed),
        )
        if changed:
            found.append(finding("X701", inst.label, ", ".join(dict.fromkeys(changed))))
        found += [finding("X702", inst.label, kw) for kw in engine.bad_dates]
        header = read_header(dst, keywords=keywords)
        done.append(replace(inst, path=dst, header=header))
    result = Collected(tuple(done), collected.findings)  # in the input's order
    _same_references(collected, result)
    return Deidentified(
        result, tuple(found), tuple(patients.values()), dict(engine.uids), engine.days
    )


def _patient_key(head: Dataset) -> str:
    """Patients are told apart by Patient ID (by name when an export has none)."""
    return _text(head, "PatientID") or "name:" + _text(head, "PatientName")


def _transform(
    engine: _Engine, patient: Pseudonym, identity: _Identity, changed: list[str]
) -> Callable[[Dataset], None]:
    """What happens to one dataset, in place, between reading and writing it."""

    def run(ds: Dataset) -> None:
        engine.anonymizer.anonymize(ds)
        if patient.patient_name:
            ds.PatientName = patient.patient_name  # one pseudonym per Patient ID
        ds.remove_private_tags()
        changed.extend(_scrub(ds, identity))
        ds.LongitudinalTemporalInformationModified = "MODIFIED"  # PS3.3 C.12.1.1
        methods = [str(m) for m in _values(ds["DeidentificationMethod"])]
        ds.DeidentificationMethod = [*(m for m in methods if m != _METHOD), _METHOD]

    return run


def _same_references(before: Collected, after: Collected) -> None:
    """No R finding after de-identification that was not there before (same code, same file)."""

    def key(found: Sequence[Finding]) -> Counter[tuple[str, str]]:
        return Counter((f.code, f.path) for f in found)

    old = key(rt_findings((i.label, i.header.keys) for i in before.instances))
    new = key(rt_findings((i.label, i.header.keys) for i in after.instances))
    broken = new - old
    if broken:
        (code, path), _ = next(iter(broken.items()))
        raise InternalError(
            f"{path}: de-identification broke an RT reference ({code}); please report this"
        )


def check_map_path(keep_map: Path, outputs: Sequence[Path]) -> None:
    """``--keep-map FILE`` must be a new file outside every output (it re-identifies them).

    Raises
    ------
    InputError
        When FILE exists, is an output, or lies inside one.
    """
    target = keep_map.absolute().resolve()
    for out in outputs:
        root = out.absolute().resolve()
        if target == root or root in target.parents:
            raise InputError(
                f"--keep-map {keep_map}: inside the output {out}; the map re-identifies "
                "the medium, keep it elsewhere"
            )
    if keep_map.exists() or keep_map.is_symlink():
        raise InputError(f"--keep-map {keep_map}: already exists; mediakit never overwrites")
    if not target.parent.is_dir():
        raise InputError(f"--keep-map {keep_map}: folder {target.parent} does not exist")


__all__ = ["KEYWORDS", "Deidentified", "Pseudonym", "check_map_path", "deidentify"]
