"""The element handlers mediakit adds to dicognito's Anonymizer (added later, run first)."""

from __future__ import annotations

from collections.abc import Iterator

from dicognito.datetimeanonymizer import DateTimeAnonymizer
from dicognito.element_anonymizer import ElementAnonymizer
from dicognito.pnanonymizer import PNAnonymizer
from dicognito.randomizer import Randomizer
from dicognito.uianonymizer import UIAnonymizer
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag
from pydicom.uid import UID

from mediakit.deid.identity import Identity, element_values


class UIDs(ElementAnonymizer):
    """dicognito's UID replacement, keeping registry UIDs and recording the mapping."""

    def __init__(self, randomizer: Randomizer, seen: dict[str, str]) -> None:
        self._inner = UIAnonymizer(randomizer)
        self._seen = seen

    def __call__(self, dataset: Dataset, data_element: DataElement) -> bool:
        if data_element.VR != "UI" or not data_element.value:
            return False
        values = element_values(data_element)
        if all(_registered(v) for v in values):
            return True  # a SOP Class, transfer syntax or well-known UID: keep it
        before = [str(v) for v in values]
        if not self._inner(dataset, data_element):
            return False  # a ...ClassUID or the transfer syntax: dicognito keeps it
        after = [str(v) for v in element_values(data_element)]
        kept = [b if _registered(b) else a for b, a in zip(before, after, strict=True)]
        data_element.value = kept if len(kept) > 1 else kept[0]
        self._seen.update((b, a) for b, a in zip(before, kept, strict=True) if b != a)
        return True

    def describe_actions(self) -> Iterator[str]:
        yield "Replace UI elements (not registry UIDs) with consistent new UIDs"


class Dates(ElementAnonymizer):
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


class Removed(ElementAnonymizer):
    """PS3.15 Table E.1-1 action X for what dicognito keeps or replaces (``deid.toml``)."""

    def __init__(self, tags: frozenset[BaseTag]) -> None:
        self._tags = tags

    def __call__(self, dataset: Dataset, data_element: DataElement) -> bool:
        if data_element.tag not in self._tags:
            return False
        del dataset[data_element.tag]
        return True

    def describe_actions(self) -> Iterator[str]:
        yield "Remove the patient identity attributes of PS3.15 Table E.1-1 with action X"


class Names(ElementAnonymizer):
    """A Person Name that names the current patient becomes the patient's one pseudonym."""

    def __init__(self, randomizer: Randomizer) -> None:
        self.patient: Identity | None = None
        self._others = PNAnonymizer(randomizer)  # dicognito's, for other people in one value

    def __call__(self, dataset: Dataset, data_element: DataElement) -> bool:
        who = self.patient
        if data_element.VR != "PN" or not data_element.value or who is None:
            return False
        values = element_values(data_element)
        if not any(who.is_person(v) for v in values):
            return False  # someone else: dicognito's PN anonymizer
        new = []
        for value in values:
            if who.is_person(value):
                new.append(who.pseudonym_name)
            else:
                one = DataElement(data_element.tag, "PN", value)
                self._others(dataset, one)
                new.append(str(one.value))
        data_element.value = new if len(new) > 1 else new[0]
        return True

    def describe_actions(self) -> Iterator[str]:
        yield "Replace every Person Name of the patient with the patient's one pseudonym"


__all__ = ["Dates", "Names", "Removed", "UIDs"]
