"""Reading values out of header datasets without trusting them.

Headers come from media and exports we did not write: an attribute may be
absent, empty, of the wrong VR or undecodable. Every accessor here returns an
empty or ``None`` value instead of raising, so one bad element never hides the
rest of the graph.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from mediakit.profiles import keyword_tag


def raw(ds: Dataset, kw: str) -> Any:
    """The value of ``kw`` in ``ds``, or None when absent or undecodable."""
    tag = keyword_tag(kw)
    if tag is None or tag not in ds:  # an unknown keyword is never in a dataset
        return None
    if isinstance(elem := ds.get_item(tag), DataElement):
        return elem.value  # decoded already (header keys are): nothing to warn about or fail
    with warnings.catch_warnings():  # pydicom warns about invalid values as it decodes them
        warnings.simplefilter("ignore")
        try:
            return ds[tag].value
        except Exception:  # a value pydicom cannot decode is absent for our purposes
            return None


def text(ds: Dataset, kw: str) -> str:
    """A single value as stripped text ('' when absent, empty or a sequence)."""
    value = raw(ds, kw)
    if value is None or (isinstance(value, bytes | Sequence) and not isinstance(value, str)):
        if isinstance(value, MultiValue) and len(value):
            return str(value[0]).strip()
        return ""
    return str(value).strip()


def texts(ds: Dataset, kw: str) -> list[str]:
    """Every value of a multi-valued attribute as text, empties dropped."""
    value = raw(ds, kw)
    if value is None or isinstance(value, bytes):
        return []
    values = list(value) if isinstance(value, MultiValue | list | tuple) else [value]
    return [t for v in values if (t := str(v).strip())]


def items(ds: Dataset, kw: str) -> list[Dataset]:
    """The items of a sequence (empty when absent or not a sequence)."""
    value = raw(ds, kw)
    if value is None or isinstance(value, str | bytes):
        return []
    try:
        return [item for item in value if isinstance(item, Dataset)]
    except TypeError:
        return []


def integer(ds: Dataset, kw: str) -> int | None:
    """An IS/US value as an int, or None."""
    t = text(ds, kw)
    try:
        return int(float(t)) if t else None
    except (ValueError, OverflowError):
        return None


def decimal(ds: Dataset, kw: str) -> float | None:
    """A DS/FL value as a float, or None (NaN and infinities are None too)."""
    t = text(ds, kw)
    try:
        value = float(t) if t else None
    except ValueError:
        return None
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def walk(ds: Dataset, path: Sequence[str]) -> Iterator[tuple[Dataset, tuple[Dataset, ...]]]:
    """Every item of the last sequence of ``path``, with its enclosing items (outermost first)."""
    stack: list[tuple[Dataset, tuple[Dataset, ...], int]] = [(ds, (), 0)]
    while stack:
        here, outer, depth = stack.pop()
        found = items(here, path[depth])
        if depth == len(path) - 1:
            for item in found:
                yield item, outer
            continue
        for item in reversed(found):
            stack.append((item, (*outer, item), depth + 1))


def nearest(outer: Sequence[Dataset], kw: str) -> str:
    """``kw`` from the innermost enclosing item that has it ('' if none)."""
    if not kw:
        return ""
    for item in reversed(outer):
        if value := text(item, kw):
            return value
    return ""
