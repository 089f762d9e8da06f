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
  exports of one patient), and wherever the patient's name appears (a nested
  Person Name that names the same person gets the same pseudonym).
- **Patient identity attributes** that PS3.15 Table E.1-1 removes (action X) and
  dicognito keeps or replaces (Patient's Birth Time, Other Patient IDs and Names,
  Patient Comments, ...) are removed, nested ones too (``profiles/deid.toml``).
- **Private elements** are removed (PS3.15 E.1-1: private attributes, X).
- **Free text and RT labels** that repeat the patient's name, ID or birth date (a
  plan label ``SMITH_PROSTATE``) have it replaced, each patient's terms in that
  patient's instances only (:mod:`mediakit.deid.identity`): X701 for free text,
  X703 for RT labels, X704 for an ID in a coded string (never rewritten).

Afterwards the RT rules run again: a reference that was intact before and is
broken after is a bug, never a finding (InternalError).
"""

from __future__ import annotations

import copy
import secrets
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from random import Random
from typing import Any, Final

import dicognito
from dicognito.anonymizer import Anonymizer
from dicognito.randomizer import Randomizer
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

from mediakit import __version__
from mediakit.check.rt import rt_findings
from mediakit.deid.handlers import Dates, Names, Removed, UIDs
from mediakit.deid.identity import Changes, Identity, Original, element_values, scrub
from mediakit.deid.rules import rules
from mediakit.errors import InputError, InternalError
from mediakit.findings import Finding, finding
from mediakit.inputs import Collected, Instance
from mediakit.part10 import read_header, rewrite, target_syntax
from mediakit.profiles import Profile

#: Attributes :func:`deidentify` needs in the collected headers (besides the layout's).
KEYWORDS: Final = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "PatientBirthName",
)

# PS3.15 E.3.6 Retain Longitudinal Temporal Information with Modified Dates: shifted back
# by 62 to 730 days, dicognito's range.
_SHIFT_DAYS: Final = (62, 730)
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


def _text(ds: Dataset, kw: str) -> str:
    value = ds.get(kw, "")
    return "" if value is None else str(value).strip()


class _Engine:
    """One dicognito Anonymizer for the whole build, with the RT extensions."""

    def __init__(self, secret: str) -> None:
        self.days = -Random(secret).randint(*_SHIFT_DAYS)
        self.uids: dict[str, str] = {}
        self.bad_dates: list[str] = []
        self.anonymizer = Anonymizer(seed=secret)
        self.names = Names(Randomizer(secret))  # the Randomizer dicognito's Anonymizer makes
        # Handlers added later run first; the first that takes an element wins.
        self.anonymizer.add_element_handler(Dates(self.days, self.bad_dates))
        self.anonymizer.add_element_handler(UIDs(Randomizer(secret), self.uids))
        self.anonymizer.add_element_handler(self.names)
        self.anonymizer.add_element_handler(Removed(rules().remove))

    def pseudonym(self, head: Dataset) -> Pseudonym:
        """What dicognito makes of one patient's identity (the same for every instance)."""
        probe = Dataset()
        probe.file_meta = FileMetaDataset()
        for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex"):
            if _text(head, kw):
                probe[kw] = copy.deepcopy(head[kw])  # the header itself stays as it was
        self.names.patient = None
        self.anonymizer.anonymize(probe)
        return Pseudonym(
            _text(head, "PatientID"),
            _text(head, "PatientName"),
            _text(head, "PatientBirthDate"),
            _text(probe, "PatientID"),
            _text(probe, "PatientName"),
            _text(probe, "PatientBirthDate"),
        )

    def new_id(self, value: str) -> str:
        """What dicognito makes of an ID (the same wherever the ID is: Patient ID or not)."""
        probe = Dataset()
        probe.file_meta = FileMetaDataset()
        probe.PatientID = value
        self.names.patient = None
        self.anonymizer.anonymize(probe)
        return _text(probe, "PatientID")


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
    seen: dict[str, _Seen] = {}
    for inst in collected.instances:
        key = _patient_key(inst.header.keys)
        if key not in patients:
            patients[key] = engine.pseudonym(inst.header.keys)
        seen.setdefault(key, _Seen()).add(inst.header.keys)
    table = rules()
    who = {key: _identity(engine, patients[key], seen[key]) for key in patients}
    staging.mkdir(parents=True, exist_ok=True)
    found: list[Finding] = []
    done: list[Instance] = []
    for n, inst in enumerate(collected.instances):
        dst = staging / f"de{n:08d}"
        h = inst.header
        ts = target_syntax(h, profile.transfer_syntaxes) or h.transfer_syntax
        key = _patient_key(h.keys)
        changes = Changes()
        engine.bad_dates.clear()
        transform = _transform(engine, patients[key], who[key], table.labels, changes)
        rewrite(inst.path, dst, h, ts, transform=transform)
        for code, what in (
            ("X701", changes.free_text),
            ("X703", changes.labels),
            ("X704", changes.coded),
        ):
            if what:
                found.append(finding(code, inst.label, ", ".join(dict.fromkeys(what))))
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


def _strings(ds: Dataset, kw: str) -> list[str]:
    value = ds.get(kw)
    values = list(value) if isinstance(value, MultiValue | list) else [value]
    return [s for s in (str(v).strip() for v in values if v is not None) if s]


@dataclass
class _Seen:
    """Every form of one patient's identity in the collected headers (exports may differ)."""

    names: dict[str, None] = field(default_factory=dict)
    ids: dict[str, None] = field(default_factory=dict)
    birth_dates: dict[str, None] = field(default_factory=dict)

    def add(self, head: Dataset) -> None:
        for kw in ("PatientName", "OtherPatientNames", "PatientBirthName"):
            self.names.update(dict.fromkeys(_strings(head, kw)))
        self.ids.update(
            dict.fromkeys([*_strings(head, "PatientID"), *_strings(head, "OtherPatientIDs")])
        )
        for item in head.get("OtherPatientIDsSequence", None) or []:
            self.ids.update(dict.fromkeys(_strings(item, "PatientID")))
        self.birth_dates.update(dict.fromkeys(_strings(head, "PatientBirthDate")))


def _identity(engine: _Engine, patient: Pseudonym, seen: _Seen) -> Identity:
    """One patient's identity terms and what replaces each (the patient's own pseudonyms)."""
    ids = {
        v: patient.patient_id if v == patient.original_id else engine.new_id(v) for v in seen.ids
    }
    original = Original(
        names=tuple(seen.names),
        pseudonym_name=patient.patient_name,
        ids=ids,
        birth_dates=tuple(seen.birth_dates),
        shift_days=engine.days,
    )
    return Identity(original, rules().clinical_words)


def _transform(
    engine: _Engine,
    patient: Pseudonym,
    who: Identity,
    labels: frozenset[BaseTag],
    changes: Changes,
) -> Callable[[Dataset], None]:
    """What happens to one dataset, in place, between reading and writing it."""

    def run(ds: Dataset) -> None:
        engine.names.patient = who  # this patient's names get this patient's pseudonym
        try:
            engine.anonymizer.anonymize(ds)
        finally:
            engine.names.patient = None
        if patient.patient_name:
            ds.PatientName = patient.patient_name  # one pseudonym per Patient ID
        ds.remove_private_tags()
        done = scrub(ds, who, labels)
        changes.free_text += done.free_text
        changes.labels += done.labels
        changes.coded += done.coded
        ds.LongitudinalTemporalInformationModified = "MODIFIED"  # PS3.3 C.12.1.1
        methods = [str(m) for m in element_values(ds["DeidentificationMethod"])]
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
