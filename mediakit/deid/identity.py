"""Where free text and RT labels repeat one patient's identity, and what replaces it.

One :class:`Identity` per patient (per original Patient ID), applied to that patient's
instances only. It is searched for as:

- **IDs** (Patient ID, Other Patient IDs) of 3 characters or more: anywhere, as a
  substring, case-insensitive (``Course MK0007000plan``); the longest run of digits in an
  ID, when it has 6 digits or more, wherever no digit is beside it (``Pat-Nr. 0007000``).
- **The birth date** in the forms of :func:`date_forms`, wherever no digit is beside it
  (the compact ``YYYYMMDD`` anywhere). Each form is replaced by the shifted birth date in
  the same form.
- **Names**: the whole name (``FAMILY^GIVEN``, ``GIVEN FAMILY``, ``FAMILY, GIVEN``, with
  space, comma, ``^``, ``_`` or ``-`` between), and each part of 3 characters or more
  (the family, given and middle names, and the words of a compound one), wherever no letter
  is beside it or the case changes from lower to upper there (``SMITH_PLAN``, ``SmithPlan``,
  ``SMITH2``; not ``SMITHERS``): a short part such as ``LI`` or an initial is matched only
  inside the whole name. Each form is also matched ASCII-folded (``MÜLLER`` as ``MULLER``
  and ``MUELLER``, ``ß`` as ``SS``, ``Ø`` as ``O`` and ``OE``, ...), case-insensitively.

Three rules use these terms (:func:`scrub`):

- **free text** (AE, LO, LT, SH, ST, UC, UR, UT, not an RT label): every term (X701);
- **RT labels** (ROI names, plan, structure set, image and beam labels: ``deid.toml``): the
  same terms, except a name part that is a clinical word (a patient ``HEART^ROSE`` keeps the
  ROI ``HEART``; ``deid.toml`` lists the words) (X703);
- **coded strings** (CS): never rewritten; an ID or the birth date found there is reported
  (X704).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pydicom.valuerep import MAX_VALUE_LEN

#: Value representations the free-text rule rewrites (CS and PN never: coded values, and
#: every person name is replaced by dicognito already).
FREE_TEXT_VRS: Final = frozenset({"AE", "LO", "LT", "SH", "ST", "UC", "UR", "UT"})
_LABEL_VRS: Final = FREE_TEXT_VRS | {"CS"}  # Content Label is a CS label
_MIN_PART: Final = 3  # shorter name parts and IDs would match ordinary words and numbers
_MIN_DIGITS: Final = 6  # an ID's digit run searched for on its own
_SEPARATORS: Final = (" ", ", ", ",", "^", "_", "-")  # between the parts of a whole name

_NO_LETTER_BEFORE: Final = r"(?:(?<![^\W\d_])|(?-i:(?<=[a-z])(?=[A-Z])))"
_NO_LETTER_AFTER: Final = r"(?:(?![^\W\d_])|(?-i:(?<=[a-z])(?=[A-Z])))"
_NO_DIGIT_BEFORE: Final = r"(?<!\d)"
_NO_DIGIT_AFTER: Final = r"(?!\d)"

# Letters NFKD does not decompose, and the transliterations German and Nordic names use.
_FOLD: Final = str.maketrans(
    {"ß": "ss", "ẞ": "SS", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o",
     "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "TH", "þ": "th",
     "\u0131": "i"}  # dotless i
)  # fmt: skip
_TRANSLITERATE: Final = str.maketrans(
    {"Ä": "AE", "ä": "ae", "Ö": "OE", "ö": "oe", "Ü": "UE", "ü": "ue", "Å": "AA", "å": "aa",
     "Ø": "OE", "ø": "oe"}
)  # fmt: skip
_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def variants(text: str) -> tuple[str, ...]:
    """The forms a name is written in: as given (NFC and NFD), ASCII-folded, transliterated."""
    text = unicodedata.normalize("NFC", text)
    forms = (
        text,
        unicodedata.normalize("NFD", text),
        _ascii_fold(text),
        _ascii_fold(text.translate(_TRANSLITERATE)),
    )
    return tuple(dict.fromkeys(forms))


def date_forms(day: date) -> tuple[str, ...]:
    """How free text writes a date (the README lists them); the order is the same for every day.

    YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD; day first: DD.MM.YYYY, DD/MM/YYYY,
    DD-MM-YYYY, D.M.YYYY, D/M/YYYY, DD.MM.YY, DD/MM/YY; month first: MM/DD/YYYY, MM-DD-YYYY,
    M/D/YYYY, MM/DD/YY; English month names: D Month YYYY, D Mon YYYY, DD-Mon-YYYY,
    Month D, YYYY, Mon D, YYYY.
    """
    y, m, d = f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"
    yy, m1, d1 = y[2:], str(day.month), str(day.day)
    month = _MONTHS[day.month - 1]
    mon = month[:3]
    return (
        f"{y}{m}{d}", f"{y}-{m}-{d}", f"{y}/{m}/{d}", f"{y}.{m}.{d}",
        f"{d}.{m}.{y}", f"{d}/{m}/{y}", f"{d}-{m}-{y}", f"{d1}.{m1}.{y}", f"{d1}/{m1}/{y}",
        f"{d}.{m}.{yy}", f"{d}/{m}/{yy}",
        f"{m}/{d}/{y}", f"{m}-{d}-{y}", f"{m1}/{d1}/{y}", f"{m}/{d}/{yy}",
        f"{d1} {month} {y}", f"{d1} {mon} {y}", f"{d}-{mon}-{y}", f"{month} {d1}, {y}",
        f"{mon} {d1}, {y}",
    )  # fmt: skip


def parse_da(value: str) -> date | None:
    """A DA value (YYYYMMDD) as a date, None when it is no date."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def person_key(value: object) -> set[str]:
    """A Person Name, normalised for comparison (case, trailing empty components, folding)."""
    group = str(value).split("=")[0]
    parts = [p.strip() for p in group.split("^")]
    while parts and not parts[-1]:
        parts.pop()
    return {v.casefold() for v in variants("^".join(parts))} - {""}


def _key(text: str) -> str:
    """How a match is looked up: as the regex matched it, ignoring case (NFC and NFD differ)."""
    return text.casefold()


@dataclass
class _Terms:
    """Terms of one kind (IDs, dates, name parts, ...): each form and what replaces it."""

    before: str  # what may not be just before a match (a regex lookbehind), and after it
    after: str
    fold: bool = False  # also the ASCII-folded forms (names)
    found: dict[str, str] = field(default_factory=dict)  # form -> its replacement

    def add(self, text: str, replacement: str) -> None:
        for form in variants(text) if self.fold else (text,):
            if form.strip():
                self.found.setdefault(form, replacement)


class _Rule:
    """One compiled search (some kinds of terms) and its replacements."""

    def __init__(self, kinds: Iterable[_Terms]) -> None:
        alternatives: dict[str, tuple[int, str]] = {}  # form -> (length, regex)
        self._replacement: dict[str, str] = {}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        for terms in kinds:  # the first kind that has a form decides its replacement
            for form, replacement in terms.found.items():
                if form in alternatives:
                    continue
                alt = terms.before + re.escape(form) + terms.after
                alternatives[form] = (len(form), alt)
                self._replacement.setdefault(_key(form), replacement)
                self._patterns.append((re.compile(alt, re.IGNORECASE), replacement))
        # Longest first: the whole name before its parts, an ID before a name inside it.
        ordered = sorted(alternatives.values(), key=lambda a: -a[0])
        body = "|".join(alt for _, alt in ordered) or "(?!)"
        self.pattern = re.compile(body, re.IGNORECASE)

    def replacement(self, match: re.Match[str]) -> str:
        found = self._replacement.get(_key(match[0]))
        if found is not None:
            return found
        # Case folding the regex and str.casefold disagree on (dotted I, ...): find it again.
        return next((r for p, r in self._patterns if p.fullmatch(match[0])), "")

    def sub(self, text: str) -> str:
        return self.pattern.sub(self.replacement, text)


@dataclass(frozen=True)
class Original:
    """One patient's identity as the input has it, and the replacement of each part."""

    names: tuple[str, ...]  # Patient's Name and the other names of the same person
    pseudonym_name: str  # the one pseudonym of the patient
    ids: Mapping[str, str]  # Patient ID, Other Patient IDs -> their replacement
    birth_dates: tuple[str, ...]  # DA values
    shift_days: int  # the date shift: the birth date in free text moves with every date


class Identity:
    """One patient's identity terms, compiled into the three rules of this module."""

    def __init__(self, original: Original, clinical_words: frozenset[str]) -> None:
        self.pseudonym_name = original.pseudonym_name
        self._people: set[str] = set()
        for name in original.names:
            self._people |= person_key(name)
        ids = _Terms("", "")
        digits = _Terms(_NO_DIGIT_BEFORE, _NO_DIGIT_AFTER)
        dates = _Terms(_NO_DIGIT_BEFORE, _NO_DIGIT_AFTER)
        whole = _Terms(_NO_LETTER_BEFORE, _NO_LETTER_AFTER, fold=True)
        parts = _Terms(_NO_LETTER_BEFORE, _NO_LETTER_AFTER, fold=True)
        clinical = _Terms(_NO_LETTER_BEFORE, _NO_LETTER_AFTER, fold=True)
        for old, new in original.ids.items():
            old = old.strip()
            if len(old) >= _MIN_PART:
                ids.add(old, new)
            run = max(re.findall(r"\d+", old), key=len, default="")
            if len(run) >= _MIN_DIGITS and run != old:
                digits.add(run, new)
        for value in original.birth_dates:
            day = parse_da(value)
            if day is not None:
                moved = date_forms(day + timedelta(days=original.shift_days))
                compact, *written = zip(date_forms(day), moved, strict=True)
                ids.add(*compact)  # YYYYMMDD anywhere, like an ID: it is one
                for old, new in written:
                    dates.add(old, new)
            elif len(value.strip()) >= _MIN_DIGITS:
                ids.add(value.strip(), "")
        for name in original.names:
            _name_terms(name, original.pseudonym_name, whole, parts, clinical, clinical_words)
        self.free_text = _Rule((whole, ids, digits, dates, parts, clinical))
        self.label = _Rule((whole, ids, digits, dates, parts))
        self.coded = _Rule((ids, digits, dates))

    def is_person(self, value: object) -> bool:
        """Whether a Person Name value names this patient (any of the patient's names)."""
        return bool(person_key(value) & self._people)


def _name_terms(
    original: str,
    pseudonym: str,
    whole: _Terms,
    parts: _Terms,
    clinical: _Terms,
    clinical_words: frozenset[str],
) -> None:
    """The forms of one Person Name: whole, and its parts (each ``=`` group of it)."""
    new = [p.strip() for p in pseudonym.split("^")] + [""] * 5
    for group in original.split("="):
        old = [p.strip() for p in group.split("^")]
        while old and not old[-1]:
            old.pop()
        if not old:
            continue
        if len(old) >= 2:
            whole.add("^".join(old), "^".join(new[: len(old)]))
        if len(old) >= 2 and old[0] and old[1]:
            for sep in _SEPARATORS:
                whole.add(f"{old[0]}{sep}{old[1]}", f"{new[0]}{sep}{new[1]}")
                whole.add(f"{old[1]}{sep}{old[0]}", f"{new[1]}{sep}{new[0]}")
        for index, part in enumerate(old[:3]):  # family, given, middle; not prefix, suffix
            replacement = new[index] or new[0]
            for word in dict.fromkeys((part, *re.split(r"[\s\-]+", part))):
                if len(word) < _MIN_PART:
                    continue  # initials and two-letter parts match too much clinical text
                terms = clinical if _is_clinical(word, clinical_words) else parts
                terms.add(word, replacement)


def _is_clinical(word: str, clinical_words: frozenset[str]) -> bool:
    return any(v.upper() in clinical_words for v in variants(word))


@dataclass
class Changes:
    """What :func:`scrub` did to one dataset: attribute keywords, and new label values."""

    free_text: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    coded: list[str] = field(default_factory=list)


def element_values(elem: DataElement) -> list[Any]:
    """The values of an element as a list (one, several, or one empty)."""
    value = elem.value
    return list(value) if isinstance(value, MultiValue | list) else [value]


def _rewrite(elem: DataElement, sub: Callable[[str], str]) -> list[str] | None:
    """Apply ``sub`` to every value (cut to the VR's length); the new values, None if none."""
    old = [str(v) for v in element_values(elem)]
    new = [sub(v) for v in old]
    if new == old:
        return None
    limit = MAX_VALUE_LEN.get(str(elem.VR))
    new = [v[:limit] if limit else v for v in new]
    elem.value = new if len(new) > 1 else new[0]
    return new


def scrub(ds: Dataset, who: Identity, labels: frozenset[BaseTag]) -> Changes:
    """Replace the patient's identity in free text and RT labels, in place (nested too)."""
    changes = Changes()

    def visit(dataset: Dataset, elem: DataElement) -> None:
        name = elem.keyword or str(elem.tag)
        if elem.VR == "UN" and isinstance(elem.value, bytes):
            if who.free_text.pattern.search(elem.value.decode("latin-1")):
                del dataset[elem.tag]  # unknown encoding: cannot be edited, only removed
                changes.free_text.append(name)
            return
        if not elem.value:
            return
        if elem.tag in labels and elem.VR in _LABEL_VRS:
            new = _rewrite(elem, who.label.sub)
            if new is not None:
                shown = "\\".join(new)
                changes.labels.append(f"{name} '{shown}'")
        elif elem.VR in FREE_TEXT_VRS:
            if _rewrite(elem, who.free_text.sub) is not None:
                changes.free_text.append(name)
        elif elem.VR == "CS" and any(
            who.coded.pattern.search(str(v)) for v in element_values(elem)
        ):
            changes.coded.append(name)

    ds.walk(visit)
    return changes


__all__ = [
    "FREE_TEXT_VRS",
    "Changes",
    "Identity",
    "Original",
    "date_forms",
    "element_values",
    "scrub",
]
