"""The RT object table (``profiles/rt_objects.toml``): kinds, frames and references, as data.

Which SOP Class is which RT object, and which sequences lead from one object to
another, come from the standard; they are transcribed once into the table and
validated here (every keyword must be a DICOM keyword), never written as code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Final

from pydicom.datadict import keyword_dict

from mediakit.errors import ProfileError
from mediakit.profiles import standard_table

TABLE: Final = "rt_objects.toml"
ROLES: Final = frozenset(
    {
        "structure set",
        "image",
        "image series",
        "plan",
        "dose",
        "related plan",
        "record",
        "registration",
    }
)


@dataclass(frozen=True, slots=True)
class ReferenceRule:
    """One way an RT object names another: follow ``path``, read the target from its items."""

    kinds: frozenset[str]
    path: tuple[str, ...]
    role: str
    target: str  # "ReferencedSOPInstanceUID", or "SeriesInstanceUID" for a whole series
    expects: frozenset[str]  # kinds the target must be (empty: any, e.g. images)
    frame: str  # attribute of an enclosing item naming the target's Frame of Reference
    series: str  # attribute of an enclosing item naming the target's series
    ref: str  # the clause of the standard


@dataclass(frozen=True, slots=True)
class DoseSummation:
    """What one Dose Summation Type requires of the dose's references (PS3.3 C.8.8.3)."""

    plans: str  # "one", "several" or "none": items of Referenced RT Plan Sequence
    fraction_group: bool  # each plan item names one fraction group (else: names none)
    beams: bool  # ... and the beams of it (else: names none)
    control_points: bool  # ... and for each beam one range of control points (else: none)
    setups: bool  # ... and the brachy application setups of it (else: names none)
    records: bool  # the dose names the treatment records it was calculated for


@dataclass(frozen=True)
class RTTable:
    """The whole table, validated."""

    edition: str
    kinds: Mapping[str, str]  # SOP Class UID -> kind
    frames: Mapping[str, tuple[tuple[str, ...], ...]]  # kind -> paths to Frame of Reference UIDs
    references: tuple[ReferenceRule, ...]
    dose_summation: Mapping[str, DoseSummation]  # Dose Summation Type -> requirements

    def keywords(self) -> tuple[str, ...]:
        """Top-level attributes a header must carry for the references and frames."""
        heads = [r.path[0] for r in self.references]
        heads += [p[0] for paths in self.frames.values() for p in paths]
        return tuple(dict.fromkeys(heads))


def _keyword(kw: object, where: str) -> str:
    if not isinstance(kw, str) or kw not in keyword_dict:
        raise ProfileError(f"profiles/{TABLE}: {where}: {kw!r} is not a DICOM keyword")
    return kw


def _reference(n: int, entry: Mapping[str, Any], kinds: frozenset[str]) -> ReferenceRule:
    where = f"reference #{n + 1}"
    role = entry.get("role")
    if role not in ROLES:
        raise ProfileError(f"profiles/{TABLE}: {where}: unknown role {role!r}")
    named = frozenset(entry.get("kinds", ())) | frozenset(entry.get("expects", ()))
    if not entry.get("kinds") or named - kinds:
        raise ProfileError(f"profiles/{TABLE}: {where}: unknown kinds {sorted(named - kinds)}")
    path = tuple(_keyword(k, where) for k in entry.get("path", ()))
    if not path:
        raise ProfileError(f"profiles/{TABLE}: {where}: empty path")
    optional = {k: _keyword(entry[k], where) for k in ("target", "frame", "series") if k in entry}
    return ReferenceRule(
        kinds=frozenset(entry["kinds"]),
        path=path,
        role=str(role),
        target=optional.get("target", "ReferencedSOPInstanceUID"),
        expects=frozenset(entry.get("expects", ())),
        frame=optional.get("frame", ""),
        series=optional.get("series", ""),
        ref=str(entry.get("ref", "")),
    )


@cache
def rt_table() -> RTTable:
    """Load and validate ``rt_objects.toml`` once.

    Raises
    ------
    ProfileError
        When the table names an unknown keyword, kind or role.
    """
    data = standard_table(TABLE)
    kinds = {str(k): str(v) for k, v in data.get("kind", {}).items()}
    known = frozenset(kinds.values())
    frames: dict[str, tuple[tuple[str, ...], ...]] = {}
    for kind, paths in data.get("frames", {}).items():
        if kind not in known:
            raise ProfileError(f"profiles/{TABLE}: frames: unknown kind {kind!r}")
        frames[kind] = tuple(
            tuple(_keyword(k, f"frames {kind}") for k in str(p).split(">")) for p in paths
        )
    refs = tuple(_reference(n, e, known) for n, e in enumerate(data.get("reference", ())))
    summation = {}
    for name, entry in data.get("dose_summation", {}).items():
        if entry.get("plans") not in ("one", "several", "none"):
            raise ProfileError(
                f"profiles/{TABLE}: dose_summation {name}: plans must be one/several/none"
            )
        summation[str(name)] = DoseSummation(
            plans=str(entry["plans"]),
            **{
                k: bool(entry.get(k, False))
                for k in ("fraction_group", "beams", "control_points", "setups", "records")
            },
        )
    return RTTable(
        edition=str(data.get("edition", "")),
        kinds=MappingProxyType(kinds),
        frames=MappingProxyType(frames),
        references=refs,
        dose_summation=MappingProxyType(summation),
    )
