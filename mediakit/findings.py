"""Findings: typed, coded reports of how a file, a DICOMDIR or a medium conforms.

A finding's code names one condition and never changes meaning once released.
``CODES`` is the registry: the README's code table is checked against it by a
test, and :func:`finding` refuses a code that is not registered, so no code can
be emitted without being documented.

Severity is policy, not part of the code: the registry gives the default, and a
caller may lower it (a fix the builder made is a warning) or raise it
(``--no-fix``, ``--strict``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from mediakit.errors import InternalError


class Severity(StrEnum):
    """How bad a finding is: an error fails the medium, a warning does under ``--strict``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Code:
    """One registered finding code: default severity, fixed title, the clause it cites."""

    severity: Severity
    title: str
    ref: str


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

# Families: P Part 10 file, D DICOMDIR, F File-set layout and naming,
# V volume / file system / capacity, S safety, X de-identification, R RT references,
# I import.
CODES: Final[Mapping[str, Code]] = MappingProxyType(
    {
        # --- P: Part 10 files -------------------------------------------------
        "P101": Code(E, "No File Meta Information ('DICM' missing at byte 128)", "PS3.10 §7.1"),
        "P102": Code(W, "Preamble is neither zero nor a TIFF header", "PS3.10 §7.5"),
        "P103": Code(E, "File Meta element missing or invalid", "PS3.10 §7.1 Table 7.1-1"),
        "P104": Code(E, "File Meta SOP Class/Instance UID differs from the dataset", "PS3.10 §7.1"),
        "P105": Code(E, "Transfer syntax not allowed by the Application Profile", "PS3.11"),
        "P106": Code(E, "File cannot be parsed as DICOM", "PS3.10 §7"),
        "P107": Code(W, "Group 0002 elements inside the dataset", "PS3.10 §7.1"),
        "P108": Code(E, "SOP Class or SOP Instance UID missing from the dataset", "PS3.3 C.12.1"),
        "P109": Code(E, "File ends inside an element: truncated", "PS3.5 §7.1; PS3.10 §7.2"),
        # --- D: DICOMDIR ------------------------------------------------------
        "D101": Code(E, "No DICOMDIR in the root of the medium", "PS3.10 §8.6; PS3.11 D.3"),
        "D102": Code(E, "DICOMDIR cannot be parsed", "PS3.10 §7; PS3.3 F.3"),
        "D103": Code(
            E,
            "DICOMDIR Media Storage SOP Class is not Media Storage Directory",
            "PS3.10 §7.1; PS3.4 Annex I",
        ),
        "D104": Code(E, "Offset of the Next Directory Record points at no record", "PS3.3 F.3.2.2"),
        "D105": Code(
            E,
            "Offset of Referenced Lower-Level Directory Entity points at no record",
            "PS3.3 F.3.2.2",
        ),
        "D106": Code(E, "Directory record chain loops back on itself", "PS3.3 F.3.2.2"),
        "D107": Code(
            E,
            "Offset of the First/Last Record of the Root Directory Entity is wrong",
            "PS3.3 F.3.2.1",
        ),
        "D108": Code(E, "Directory record type not allowed at this level", "PS3.3 Table F.4-1"),
        "D109": Code(
            E,
            "Directory record lacks a key its Application Profile requires",
            "PS3.3 F.5; PS3.11 D.3.3",
        ),
        "D110": Code(E, "Directory record type does not fit the referenced SOP Class", "PS3.3 F.5"),
        "D111": Code(
            E,
            "Record's Referenced SOP/Transfer Syntax UID differs from the file",
            "PS3.3 F.3.2.2 Table F.3-3",
        ),
        "D112": Code(E, "Referenced file is not on the medium", "PS3.3 F.3.2.2; PS3.10 §8.6"),
        "D113": Code(E, "DICOMDIR is not Explicit VR Little Endian", "PS3.11 D.3.2"),
        "D114": Code(E, "File referenced by more than one directory record", "PS3.3 F.2"),
        "D115": Code(W, "DICOM file on the medium that no record references", "PS3.3 F.2"),
        "D116": Code(
            E,
            "Duplicate PATIENT, STUDY or SERIES record for one identifier",
            "PS3.3 F.5; PS3.11 D.3.3",
        ),
        "D117": Code(
            E,
            "Directory not organised PATIENT > STUDY > SERIES > instance",
            "PS3.11 D.3.3",
        ),
        "D118": Code(E, "File-set Consistency Flag is not zero", "PS3.3 F.3.2.1"),
        "D119": Code(W, "Inactive directory record (Record In-use Flag 0000H)", "PS3.3 F.3.2.2"),
        "D120": Code(E, "Directory entity with no records", "PS3.11 D.3.3"),
        "D121": Code(E, "SOP Class has no directory record type in the table", "PS3.3 Table F.4-1"),
        "D122": Code(
            W,
            "DICOMDIR key filled from related objects or invented",
            "PS3.11 D.3.3.1; PS3.3 F.5",
        ),
        "D123": Code(
            W, "DICOMDIR offsets unusable: tree rebuilt from record order", "PS3.3 F.3.2.2"
        ),
        "D124": Code(W, "Record key differs from the referenced file", "PS3.3 F.5"),
        "D125": Code(
            W,
            "Record references a lower-level directory file (vendor multi-level DICOMDIR)",
            "PS3.3 F.2; PS3.10 §8.6",
        ),
        "D126": Code(
            I,
            "Directory records reachable only in sequence order, not by the offset chain",
            "PS3.3 F.3.2.2",
        ),
        # --- F: File-set layout and naming -------------------------------------
        "F201": Code(E, "File ID component not 1-8 characters of A-Z 0-9 _", "PS3.10 §8.2, §8.5"),
        "F202": Code(E, "File ID deeper than 8 components", "PS3.10 §8.5; PS3.12 F.3"),
        "F203": Code(
            W,
            "File ID resolved only by ignoring case, ';1', a trailing '.' or '.dcm'",
            "PS3.12 F.3",
        ),
        "F204": Code(E, "File ID matches several files", "PS3.10 §8.5"),
        "F205": Code(E, "File-set ID not 0-16 characters of A-Z 0-9 _ space", "PS3.3 F.3.2.1"),
        "F206": Code(E, "Two different contents under one SOP Instance UID", "PS3.3 C.12.1.1.1"),
        "F207": Code(W, "Input file is not DICOM: skipped", "PS3.10 §7.1"),
        "F208": Code(
            I,
            "Same instance given more than once, encoded otherwise: one kept",
            "PS3.3 C.12.1.1.1; PS3.5 §10",
        ),
        # --- V: volume, file system, capacity --------------------------------
        "V301": Code(E, "Name not ISO 9660 Level 1", "PS3.12 F.3"),
        "V302": Code(
            E, "Volume Identifier differs from the File-set ID", "PS3.12 F.3; PS3.10 §8.6"
        ),
        "V303": Code(E, "Content exceeds the capacity of the profile's medium", "PS3.12"),
        "V304": Code(I, "Medium or file system differs from the profile's", "PS3.11; PS3.12"),
        "V305": Code(I, "Application Profile guessed from the medium", "PS3.11"),
        "V306": Code(E, "SHA-256 manifest does not match the file", "mediakit"),
        "V307": Code(E, "File extent lies outside the image", "ECMA-119 §9.1; PS3.12 F"),
        "V308": Code(E, "Medium cannot be listed: image or archive damaged", "PS3.12"),
        # --- S: safety ----------------------------------------------------------
        "S401": Code(
            E,
            "Referenced File ID escapes the medium (.., absolute, drive, NUL)",
            "PS3.10 §8.2; CVE-2026-32711",
        ),
        "S402": Code(E, "Symbolic link on the medium leads outside it", "PS3.12"),
        "S403": Code(E, "UID is not a valid DICOM UID: refused as a store path", "PS3.5 §9.1"),
        "S404": Code(E, "Symbolic link loops or points nowhere", "PS3.12; mediakit"),
        "S405": Code(E, "ZIP member inflates past 64 MiB at more than 100:1: refused", "mediakit"),
        # --- X: de-identification for cross-zone exchange (PS3.15 Annex E) ----
        "X701": Code(
            W,
            "Patient identity found in free text: replaced by the pseudonym",
            "PS3.15 E.3.5",
        ),
        "X702": Code(W, "Date or time value not understood: emptied", "PS3.15 E.3.6"),
        "X703": Code(
            W,
            "Patient identity found in an RT label: replaced by the pseudonym",
            "PS3.15 E.3.5, E.1-1",
        ),
        "X704": Code(
            W,
            "Patient ID or birth date found in a coded string (CS): kept, never rewritten",
            "PS3.15 E.1; PS3.5 §6.2",
        ),
        # --- R: RT references (IEC TR 62266) ------------------------------------
        "R501": Code(
            W, "Referenced RT Structure Set is not on the medium", "PS3.3 C.8.8.9, C.8.8.4"
        ),
        "R502": Code(W, "Referenced image is not on the medium", "PS3.3 C.8.8.5, C.20.2, C.20.3"),
        "R503": Code(
            W, "Referenced RT Plan is not on the medium", "PS3.3 C.8.8.3, C.8.8.17, C.8.8.2"
        ),
        "R504": Code(
            I,
            "Referenced related object is not on the medium (not needed to use this one)",
            "PS3.3 C.8.8.3, C.8.8.9, C.8.8.13, C.8.8.17",
        ),
        "R505": Code(
            E,
            "Frame of Reference differs between objects that must share it",
            "PS3.3 C.7.4.1, C.8.8.5, C.20.2",
        ),
        "R506": Code(W, "Dose Summation Type does not fit the dose's references", "PS3.3 C.8.8.3"),
        "R507": Code(W, "RT Plan references more than one RT Structure Set", "PS3.3 C.8.8.9"),
        "R508": Code(
            W,
            "Structure set no plan uses contours the same images as a plan's structure set",
            "PS3.3 C.8.8.9; IEC TR 62266",
        ),
        "R509": Code(W, "RT object connected to nothing on the medium (orphan)", "IEC TR 62266"),
        "R510": Code(E, "Referenced object belongs to another patient", "PS3.3 C.7.1.1"),
        "R511": Code(
            W, "Referenced SOP Class differs from the referenced object's", "PS3.3 Table 10-11"
        ),
        "R512": Code(
            W,
            "Referenced beam, fraction group or setup is not in the referenced plan",
            "PS3.3 C.8.8.2, C.8.8.21, C.8.8.22, C.8.8.26",
        ),
        "R513": Code(W, "RT Plan of PATIENT geometry names no RT Structure Set", "PS3.3 C.8.8.9"),
        # --- I: import ----------------------------------------------------------
        "I501": Code(E, "Instance cannot be read from the medium: not imported", "PS3.10 §7"),
        "I502": Code(
            E, "Instance listed in the DICOMDIR is not on the medium", "PS3.3 F.3.2.2; PS3.10 §8.6"
        ),
        "I503": Code(
            E,
            "SOP Instance UID already stored with other content: kept aside as a conflict",
            "PS3.3 C.12.1.1.1",
        ),
        "I504": Code(
            I, "Stored with a new File Meta Information; dataset unchanged", "PS3.10 §7.1"
        ),
        "I505": Code(
            I, "Instances found by scanning the medium, not through the DICOMDIR", "PS3.3 F.2"
        ),
        "I506": Code(E, "C-STORE failed: instance not stored by the PACS", "PS3.4 B.2.3"),
        "I507": Code(W, "C-STORE succeeded with a warning status", "PS3.4 B.2.3"),
        "I508": Code(
            E, "PACS accepted no presentation context for this SOP Class", "PS3.8 §9.3.3.2"
        ),
        "I509": Code(E, "Association with the PACS failed or was lost", "PS3.8 §7.1"),
        "I510": Code(W, "Store index and files disagreed: repaired", "mediakit"),
        "I511": Code(
            W, "Stored file did not match its index: replaced from the medium", "mediakit"
        ),
        "I512": Code(
            E,
            "Same SOP Instance UID with different content: not sent",
            "PS3.3 C.12.1.1.1; PS3.4 Annex B",
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One coded problem: where on the medium, what, and which clause it breaks."""

    code: str
    severity: Severity
    path: str
    message: str
    ref: str

    def line(self) -> str:
        """One line in the dciodvfy shape: severity word, code, where, what, [ref]."""
        return f"{self.severity.value:<7} {self.code} {self.path}  {self.message}  [{self.ref}]"

    def as_dict(self) -> dict[str, str]:
        """The JSON form (keys documented in the README, stable)."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": self.path,
            "message": self.message,
            "ref": self.ref,
        }


def finding(code: str, path: str, detail: str = "", *, severity: Severity | None = None) -> Finding:
    """Make a finding for a registered code: the fixed title first, the detail after it."""
    try:
        entry = CODES[code]
    except KeyError:
        raise InternalError(f"finding code {code} is not registered") from None
    message = f"{entry.title}: {detail}" if detail else entry.title
    return Finding(code, severity or entry.severity, path, message, entry.ref)


_PLURALS: Final = {"series": "series", "study": "studies"}


def plural(count: int | None, noun: str) -> str:
    """``1 instance``, ``2 instances``, ``0 studies``, ``1 series``; ``?`` when unknown.

    Every count shown to a user (findings, summaries, pages) goes through here, so
    nothing says "1 instances".
    """
    shown = "?" if count is None else str(count)
    return f"{shown} {noun if count == 1 else _PLURALS.get(noun, noun + 's')}"


def has_errors(found: Iterable[Finding], *, strict: bool = False) -> bool:
    """True when any finding fails the medium (warnings too under ``strict``)."""
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return any(f.severity in failing for f in found)


def counts(found: Iterable[Finding]) -> dict[str, int]:
    """Number of findings per severity, every severity present as a key."""
    out = {s.value: 0 for s in Severity}
    for f in found:
        out[f.severity.value] += 1
    return out


_NUMBERS: Final = re.compile(r"(0x[0-9a-fA-F]+|[0-9]+)")


def _path_key(path: str) -> tuple[str | int, ...]:
    """A path with its numbers (decimal, or hex offsets as in ``DICOMDIR@0x1a2c``) compared
    as numbers: ``@0x9ff`` before ``@0x1a2c``, ``IM2`` before ``IM10``."""
    texts = _NUMBERS.split(path)  # text at even positions, numbers at odd ones
    parts: list[str | int] = list(texts)
    parts[1::2] = [int(p, 16) if p[1:2] == "x" else int(p) for p in texts[1::2]]
    return tuple(parts)


def sort_key(f: Finding) -> tuple[tuple[str | int, ...], str, str]:
    """Stable order for output: by path (numbers as numbers), then code, then message."""
    return (_path_key(f.path), f.code, f.message)


_ENCODER: Final = json.JSONEncoder(ensure_ascii=False)  # one encoder: dumps() makes one a call


def compact_json(value: object) -> str:
    """``value`` as one line of JSON, UTF-8 kept readable, by the C encoder."""
    return _ENCODER.encode(value)


def to_json(document: Mapping[str, object]) -> str:
    """Serialise a report document: stable key order as given, UTF-8 kept readable.

    One top-level key a line, and one item a line in a top-level list (findings,
    instances). Each piece is encoded without indent, by the C encoder:
    an indented dump of 200,000 findings took 2.3 s, this 1.4 s.
    """
    lines = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            items = ",\n    ".join(map(compact_json, value))
            lines.append(f"  {compact_json(key)}: [\n    {items}\n  ]")
        else:
            lines.append(f"  {compact_json(key)}: {compact_json(value)}")
    return "{\n" + ",\n".join(lines) + "\n}" if lines else "{}"
