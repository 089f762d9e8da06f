"""The matching rules of mediakit.deid.identity, one by one (no medium is built)."""

from __future__ import annotations

from datetime import date, timedelta

import pydicom
import pytest

from mediakit.deid.identity import Identity, Original, date_forms
from mediakit.deid.rules import rules


@pytest.fixture(scope="module")
def smith() -> Identity:
    """SMITH^LI^JOHN-PAUL, ID AB123456, born 1960-07-31, dates shifted back 100 days."""
    original = Original(
        names=("SMITH^LI^JOHN-PAUL",),
        pseudonym_name="DOE^ANN^MAY",
        ids={"AB123456": "PSEUDO01"},
        birth_dates=("19600731",),
        shift_days=-100,
    )
    return Identity(original, rules().clinical_words)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plan for SMITH", "plan for DOE"),
        ("SMITH_PROSTATE", "DOE_PROSTATE"),  # underscore, digits: not letters
        ("SMITH2", "DOE2"),
        ("SmithProstate", "DOEProstate"),  # a change of case is a boundary
        ("SMITHERS, BLACKSMITH", "SMITHERS, BLACKSMITH"),  # part of another word: kept
        ("Li Smith", "ANN DOE"),  # a short part inside the whole name
        ("CLINICAL LINAC, Li", "CLINICAL LINAC, Li"),  # alone, a short part is not searched
        ("Smith, Li", "DOE, ANN"),
        ("John-Paul and Paul", "MAY and MAY"),  # the words of a compound part too
        ("xAB123456y", "xPSEUDO01y"),  # an ID anywhere
        ("ab123456", "PSEUDO01"),
        ("no 123456 here", "no PSEUDO01 here"),  # an ID's digits (6 or more) on their own
        ("1123456", "1123456"),  # ... not inside a longer number
        ("19600731083000", "19600422083000"),  # YYYYMMDD anywhere: it moves like the date
        ("31.07.1960 and 07/31/1960", "22.04.1960 and 04/22/1960"),
        ("131.07.1960", "131.07.1960"),  # not inside a longer number
    ],
)
def test_free_text_rule(smith: Identity, text: str, expected: str) -> None:
    assert smith.free_text.sub(text) == expected


def test_every_written_form_of_the_birth_date_moves_in_its_own_form(smith: Identity) -> None:
    born, moved = date(1960, 7, 31), date(1960, 7, 31) + timedelta(days=-100)
    for old, new in zip(date_forms(born), date_forms(moved), strict=True):
        assert smith.free_text.sub(f"DOB {old}.") == f"DOB {new}.", old


def test_rt_label_rule_keeps_clinical_words() -> None:
    heart = Identity(
        Original(("HEART^MAX",), "DOE^ANN^MAY", {"X12345": "P1"}, (), 0), rules().clinical_words
    )
    assert heart.label.sub("HEART") == "HEART"  # the organ
    assert heart.label.sub("MAX_DOSE") == "MAX_DOSE"
    assert heart.label.sub("HEART_MAX") == "DOE_ANN"  # the whole name is the patient
    assert heart.label.sub("X12345_PLAN") == "P1_PLAN"
    assert heart.free_text.sub("Max Heart, heart") == "ANN DOE, DOE"  # free text: every part


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("MÜLLER^JÖRG", "MULLER MUELLER Müller MÜLLER Mu\u0308ller JORG JOERG"),
        ("STRAẞER^ØYVIND", "STRASSER Strasser OYVIND OEYVIND"),
        ("ŁUKASZEWSKI^ÆLFRIC", "LUKASZEWSKI AELFRIC"),
    ],
)
def test_folded_forms_of_a_name(name: str, text: str) -> None:
    who = Identity(Original((name,), "DOE^ANN", {}, (), 0), rules().clinical_words)
    words = who.free_text.sub(text).split()
    assert set(words) <= {"DOE", "ANN"}, words


def test_a_person_is_recognised_however_the_name_is_written() -> None:
    who = Identity(Original(("MÜLLER^JÖRG",), "DOE^ANN", {}, (), 0), rules().clinical_words)
    assert who.is_person("müller^jörg^^^") and who.is_person("MUELLER^JOERG")
    assert not who.is_person("MÜLLER^ANNA") and not who.is_person("")


def test_the_rules_table_names_only_known_attributes() -> None:
    table = rules()
    assert table.edition == "2024b"
    assert pydicom.datadict.tag_for_keyword("PatientBirthTime") in table.remove
    assert pydicom.datadict.tag_for_keyword("PatientName") not in table.remove  # Z: replaced
    assert pydicom.datadict.tag_for_keyword("PatientAge") not in table.remove  # kept (E.3.7)
    assert pydicom.datadict.tag_for_keyword("ROIName") in table.labels
    assert "HEART" in table.clinical_words
