"""``profiles/deid.toml``: what de-identification removes, the RT labels, the clinical words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from pydicom.tag import BaseTag

from mediakit.errors import ProfileError
from mediakit.profiles import keyword_tag, standard_table

TABLE: Final = "deid.toml"


@dataclass(frozen=True, slots=True)
class Rules:
    """The de-identification table, as tags and upper-case words."""

    edition: str
    remove: frozenset[BaseTag]  # PS3.15 E.1-1 action X (and the few beyond the table)
    labels: frozenset[BaseTag]  # RT labels: the RT-label rule, not the free-text rule
    clinical_words: frozenset[str]


def _tags(data: Mapping[str, Any], section: str) -> frozenset[BaseTag]:
    table = data.get(section)
    if not isinstance(table, Mapping):
        raise ProfileError(f"profiles/{TABLE}: no [{section}] table")
    tags: set[BaseTag] = set()
    for part in ("table", "beyond_table"):
        for keyword in table.get(part, ()):
            tag = keyword_tag(str(keyword))
            if tag is None:
                raise ProfileError(f"profiles/{TABLE}: [{section}] {keyword!r} is not a keyword")
            tags.add(tag)
    return frozenset(tags)


@cache
def rules() -> Rules:
    """The table, loaded and checked once.

    Raises
    ------
    ProfileError
        When the file is missing, malformed or names an attribute pydicom does not know.
    """
    data = standard_table(TABLE)
    words = data.get("clinical_words", {}).get("words", ())
    return Rules(
        edition=str(data.get("edition", "")),
        remove=_tags(data, "remove"),
        labels=_tags(data, "rt_labels"),
        clinical_words=frozenset(str(w).upper() for w in words),
    )


__all__ = ["Rules", "rules"]
