"""How much a medium holds, and how content too large for one is split over several.

PS3.10 §8.1, PS3.11 D.2.1.1 and PS3.12 allow no File-set to span volumes: content
too large for one medium becomes several independent File-sets, each with its
own DICOMDIR (media-facts §5). :func:`plan_volumes` decides which instance goes
onto which volume, from sizes known before anything is written (the same
estimate the capacity check V303 uses): a study stays whole on one volume; a
study larger than a volume is split by series, each series whole; a series
larger than a volume cannot be placed (V303, nothing is written). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from pydicom.dataset import Dataset

from mediakit.findings import Finding, finding
from mediakit.profiles import Profile

# DICOMDIR records, ISO 9660 directory records and the last block's slack: per file.
OVERHEAD_PER_FILE: Final = 2048 + 512
# Volume descriptors, path tables, DICOMDIR header, manifest, PDI pages: per volume.
OVERHEAD_PER_VOLUME: Final = 1 << 20


def estimate(sizes: Iterable[int]) -> int:
    """Bytes a volume holding files of these sizes needs, overhead included (an upper bound)."""
    return sum(s + OVERHEAD_PER_FILE for s in sizes) + OVERHEAD_PER_VOLUME


def capacity_findings(profile: Profile, sizes: Sequence[int]) -> list[Finding]:
    """V303 when the content does not fit the profile's medium (PS3.12)."""
    if not profile.capacity_bytes:
        return []
    need = estimate(sizes)
    if need <= profile.capacity_bytes:
        return []
    return [
        finding(
            "V303",
            "(input)",
            f"about {need:,} bytes for a {profile.medium} of {profile.capacity_bytes:,} bytes; "
            "use --split, a larger profile (e.g. STD-GEN-DVD-JPEG) or fewer inputs",
        )
    ]


@dataclass(frozen=True, slots=True)
class Part:
    """A study's share of one volume: the whole study, or some of its series."""

    study: str  # Study Instance UID
    whole: bool
    series: tuple[str, ...]  # Series Instance UIDs on this volume


@dataclass(frozen=True, slots=True)
class Volume:
    """One volume of a split: which instances (indexes into the input) and what they are."""

    members: tuple[int, ...]
    bytes: int  # estimated, overhead included
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """The volumes (one when everything fits, or when there is no capacity) and any V303."""

    volumes: tuple[Volume, ...]
    findings: tuple[Finding, ...]


def _text(ds: Dataset, kw: str) -> str:
    value = ds.get(kw, "")
    return "" if value is None else str(value).strip()


def _number(ds: Dataset, kw: str) -> int:
    try:
        return int(_text(ds, kw))
    except ValueError:
        return 0


@dataclass
class _Unit:
    """What is packed: a whole study, or one series of a study too large for a volume."""

    study: str
    series: tuple[str, ...]
    members: list[int]
    bytes: int
    whole: bool


def _units(heads: Sequence[Dataset], sizes: Sequence[int], capacity: int) -> list[_Unit]:
    """Studies in the layout's order (patient, date, UID); a study too big becomes its series."""
    studies: dict[str, list[int]] = {}
    for i in sorted(
        range(len(heads)),
        key=lambda i: (
            _text(heads[i], "PatientID"),
            _text(heads[i], "StudyDate"),
            _text(heads[i], "StudyInstanceUID"),
        ),
    ):
        studies.setdefault(_text(heads[i], "StudyInstanceUID"), []).append(i)
    units: list[_Unit] = []
    for study, members in studies.items():
        size = sum(sizes[i] + OVERHEAD_PER_FILE for i in members)
        if size + OVERHEAD_PER_VOLUME <= capacity:
            series = tuple(dict.fromkeys(_text(heads[i], "SeriesInstanceUID") for i in members))
            units.append(_Unit(study, series, members, size, whole=True))
            continue
        by_series: dict[str, list[int]] = {}
        for i in sorted(
            members,
            key=lambda i: (_number(heads[i], "SeriesNumber"), _text(heads[i], "SeriesInstanceUID")),
        ):
            by_series.setdefault(_text(heads[i], "SeriesInstanceUID"), []).append(i)
        for uid, items in by_series.items():
            total = sum(sizes[i] + OVERHEAD_PER_FILE for i in items)
            units.append(_Unit(study, (uid,), items, total, whole=False))
    return units


def plan_volumes(heads: Sequence[Dataset], sizes: Sequence[int], capacity: int) -> Plan:
    """Place every instance on a volume of ``capacity`` bytes (0: one volume, no limit).

    ``heads`` carry PatientID, StudyDate, StudyInstanceUID, SeriesInstanceUID and
    SeriesNumber; ``sizes`` are the bytes each instance's file will have. Units
    (whole studies, else whole series) are placed first-fit in order, so the
    volumes follow the studies' order and the same inputs give the same split.
    """
    everything = tuple(range(len(heads)))
    if not capacity or estimate(sizes) <= capacity:
        return Plan((_whole(heads, sizes, everything),), ())
    units = _units(heads, sizes, capacity)
    too_big = [u for u in units if u.bytes + OVERHEAD_PER_VOLUME > capacity]
    if too_big:
        return Plan(
            (),
            tuple(
                finding(
                    "V303",
                    f"SERIES {u.series[0]}",
                    f"about {u.bytes + OVERHEAD_PER_VOLUME:,} bytes in one series of study "
                    f"{u.study}; a volume holds {capacity:,} and a series is never cut; "
                    "use a larger profile (e.g. STD-GEN-DVD-JPEG)",
                )
                for u in too_big
            ),
        )
    bins: list[list[_Unit]] = []
    free: list[int] = []
    for unit in units:
        slot = next((n for n, room in enumerate(free) if unit.bytes <= room), None)
        if slot is None:
            bins.append([])
            free.append(capacity - OVERHEAD_PER_VOLUME)
            slot = len(bins) - 1
        bins[slot].append(unit)
        free[slot] -= unit.bytes
    return Plan(tuple(_packed(heads, sizes, b) for b in bins), ())


def _packed(heads: Sequence[Dataset], sizes: Sequence[int], units: list[_Unit]) -> Volume:
    members = tuple(sorted(i for u in units for i in u.members))
    parts: dict[str, Part] = {}
    for u in units:
        seen = parts.get(u.study)
        series = (*seen.series, *u.series) if seen else u.series
        parts[u.study] = Part(u.study, u.whole, series)
    return Volume(members, estimate(sizes[i] for i in members), tuple(parts.values()))


def _whole(heads: Sequence[Dataset], sizes: Sequence[int], members: tuple[int, ...]) -> Volume:
    """Everything on one volume: every study whole."""
    studies: dict[str, dict[str, None]] = {}
    for i in members:
        studies.setdefault(_text(heads[i], "StudyInstanceUID"), {})[
            _text(heads[i], "SeriesInstanceUID")
        ] = None
    parts = tuple(Part(s, True, tuple(series)) for s, series in studies.items())
    return Volume(members, estimate(sizes[i] for i in members), parts)


def volume_id(base: str, number: int) -> str:
    """File-set ID (= volume identifier) of volume ``number``: ``BASE_2``, at most 16 characters."""
    suffix = f"_{number}"
    return base[: 16 - len(suffix)].rstrip(" _") + suffix


__all__ = [
    "OVERHEAD_PER_FILE",
    "OVERHEAD_PER_VOLUME",
    "Part",
    "Plan",
    "Volume",
    "capacity_findings",
    "estimate",
    "plan_volumes",
    "volume_id",
]
