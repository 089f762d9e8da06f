"""One :class:`~pydicom.tag.BaseTag` object per tag value, shared by everything that looks tags up.

pydicom keys its datasets by BaseTag, whose ``__eq__`` is written in Python: a
dictionary lookup by an equal but distinct BaseTag calls it, a lookup by the
very object stored does not. The tags part10 frames, the tags it asks for and
the tags of keywords (``profiles.keyword_tag``) all come from :func:`tag_of`, so
the lookups of every header and record compare by identity.
"""

from __future__ import annotations

from typing import Final

from pydicom.tag import BaseTag

_TAGS: dict[int, BaseTag] = {}
TAGS_LIMIT: Final = 1 << 16  # distinct values kept: a hostile file may bring many more


def tag_of(value: int) -> BaseTag:
    """The one BaseTag kept for ``value`` (a new, equal one once :data:`TAGS_LIMIT` are kept)."""
    known = _TAGS.get(value)
    if known is None:
        known = BaseTag(value)
        if len(_TAGS) < TAGS_LIMIT:
            _TAGS[value] = known
    return known
