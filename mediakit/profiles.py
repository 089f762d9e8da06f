"""Application Profiles and standard tables, loaded from TOML data.

The data lives in the top-level ``profiles/`` folder, installed as the package
``mediakit._profiledata``. Each table records the edition of the standard it was
transcribed from. Nothing here encodes a rule as code: a new profile or SOP
class is new data plus a test.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

from pydicom.datadict import keyword_dict, tag_for_keyword
from pydicom.tag import BaseTag

from mediakit.errors import ProfileError
from mediakit.tags import tag_of

KeyType = Literal["1", "2", "1C"]
KEY_TYPES: tuple[KeyType, ...] = ("1", "2", "1C")
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"


@dataclass(frozen=True, slots=True)
class RecordKeys:
    """Keys of one directory record type: pydicom keywords by DICOMDIR type."""

    type1: tuple[str, ...] = ()
    type2: tuple[str, ...] = ()
    type1c: tuple[str, ...] = ()

    def all(self) -> tuple[str, ...]:
        """Every key, type 1 first, without repeats."""
        return tuple(dict.fromkeys((*self.type1, *self.type2, *self.type1c)))

    def merged(self, other: RecordKeys) -> RecordKeys:
        """These keys plus a profile's additions (a key keeps its strongest type)."""
        t1 = tuple(dict.fromkeys((*self.type1, *other.type1)))
        t2 = tuple(k for k in dict.fromkeys((*self.type2, *other.type2)) if k not in t1)
        t1c = tuple(
            k for k in dict.fromkeys((*self.type1c, *other.type1c)) if k not in t1 and k not in t2
        )
        return RecordKeys(t1, t2, t1c)


@dataclass(frozen=True, slots=True)
class Profile:
    """One PS3.11 Application Profile, as the builder and the checker need it."""

    id: str
    title: str
    annex: str
    edition: str
    medium: str
    filesystem: str  # the one mediakit writes
    medium_filesystems: tuple[str, ...]  # those the medium may carry: "iso9660", "udf", "fat"
    default_format: Literal["iso", "dir"]
    capacity_bytes: int  # 0: no fixed capacity (USB: the stick decides)
    transfer_syntaxes: tuple[str, ...]
    fsu: bool
    record_keys: Mapping[str, RecordKeys]  # STD-GEN base keys merged with the profile's

    def keys_for(self, record_type: str) -> RecordKeys:
        """Keys a record of this type carries under this profile (empty if none known)."""
        return self.record_keys.get(record_type, RecordKeys())

    def allows(self, transfer_syntax: str) -> bool:
        """Whether files on this profile's media may be in ``transfer_syntax``."""
        return transfer_syntax in self.transfer_syntaxes


@cache
def keyword_tag(keyword: str) -> BaseTag | None:
    """The tag of a DICOM keyword, looked up once (None: pydicom does not know it).

    Looking attributes up by tag rather than by keyword is what keeps per-record
    and per-header code fast: pydicom resolves a keyword on every access.
    """
    tag = tag_for_keyword(keyword)
    return None if tag is None else tag_of(tag)


def _read(name: str) -> dict[str, Any]:
    try:
        text = resources.files("mediakit._profiledata").joinpath(name).read_text("utf-8")
    except FileNotFoundError:
        raise ProfileError(f"{name}: no such profile data file in the installed package") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profiles/{name}: not valid TOML ({exc})") from None
    if data.get("format") != 1:
        raise ProfileError(f"profiles/{name}: unsupported format {data.get('format')!r}")
    return data


def _keys(name: str, table: Mapping[str, Any], where: str) -> RecordKeys:
    unknown = set(table) - set(KEY_TYPES)
    if unknown:
        raise ProfileError(f"profiles/{name}: {where}: unknown key type(s) {sorted(unknown)}")
    for kw in (k for t in KEY_TYPES for k in table.get(t, ())):
        if kw not in keyword_dict:
            raise ProfileError(f"profiles/{name}: {where}: {kw!r} is not a DICOM keyword")
    return RecordKeys(*(tuple(table.get(t, ())) for t in KEY_TYPES))


@cache
def base_record_keys() -> Mapping[str, RecordKeys]:
    """Annex F keys of every record type under STD-GEN (``record_keys.toml``)."""
    data = _read("record_keys.toml")
    return MappingProxyType(
        {rt: _keys("record_keys.toml", t, rt) for rt, t in data.get("record", {}).items()}
    )


@cache
def _record_tables() -> tuple[Mapping[str, str], Mapping[str, frozenset[str]]]:
    data = _read("record_types.toml")
    levels = data["levels"]
    allowed = {
        "": frozenset(levels["root"]),
        "PATIENT": frozenset(levels["under_patient"]),
        "STUDY": frozenset(levels["under_study"]),
        "SERIES": frozenset(levels["under_series"]),
    }
    return MappingProxyType(dict(data["record_type"])), MappingProxyType(allowed)


@cache
def standard_table(name: str) -> Mapping[str, Any]:
    """Another table from ``profiles/`` (e.g. ``rt_objects.toml``), parsed but not interpreted.

    The module that owns the table validates it; this only reads it once.
    """
    return MappingProxyType(_read(name))


@cache
def _modalities() -> Mapping[str, str]:
    data = _read("modalities.toml")
    table = data.get("modality", {})
    if not all(isinstance(v, str) and v for v in table.values()):
        raise ProfileError("profiles/modalities.toml: every Modality must be a non-empty string")
    return MappingProxyType(dict(table))


def modality_for(sop_class_uid: str) -> str | None:
    """The Modality a SOP Class's IOD implies (``modalities.toml``); None when none."""
    return _modalities().get(str(sop_class_uid))


def record_type_for(sop_class_uid: str) -> str | None:
    """Directory Record Type for a SOP Class (PS3.3 Table F.4-1), or None when unknown."""
    return _record_tables()[0].get(str(sop_class_uid))


def is_root_record_type(record_type: str) -> bool:
    """Whether records of this type sit in the root directory entity (PATIENT, PALETTE, ...)."""
    return record_type in _record_tables()[1][""]


def allowed_children(parent_type: str | None) -> frozenset[str] | None:
    """Record types Table F.4-1 allows below ``parent_type`` (None: the root entity).

    Returns None for parent types the table gives no children for here (leaves,
    PRIVATE, vendor levels). PRIVATE is always allowed and not listed.
    """
    return _record_tables()[1].get(parent_type or "")


def profile_ids() -> tuple[str, ...]:
    """Every profile shipped with the package, sorted."""
    root = resources.files("mediakit._profiledata")
    return tuple(
        sorted(
            p.name.removesuffix(".toml")
            for p in root.iterdir()
            if p.name.startswith("STD-") and p.name.endswith(".toml")
        )
    )


@cache
def load_profile(profile_id: str) -> Profile:
    """Load one profile by its id (case-insensitive), e.g. ``load_profile("STD-GEN-CD")``."""
    wanted = profile_id.strip().upper()
    if wanted not in profile_ids():
        raise ProfileError(
            f"unknown profile {profile_id!r}; known: {', '.join(profile_ids())} "
            "(run 'mediakit profiles')"
        )
    name = f"{wanted}.toml"
    data = _read(name)
    try:
        extra = {rt: _keys(name, t, rt) for rt, t in data.get("record_keys", {}).items()}
        base = base_record_keys()
        keys = {rt: k.merged(extra.get(rt, RecordKeys())) for rt, k in base.items()}
        keys.update({rt: k for rt, k in extra.items() if rt not in base})
        default_format = data["default_format"]
        if default_format not in ("iso", "dir"):
            raise ProfileError(f"profiles/{name}: default_format must be 'iso' or 'dir'")
        return Profile(
            id=str(data["id"]),
            title=str(data["title"]),
            annex=str(data["annex"]),
            edition=str(data["edition"]),
            medium=str(data["medium"]),
            filesystem=str(data["filesystem"]),
            medium_filesystems=tuple(str(f) for f in data["medium_filesystems"]),
            default_format=default_format,
            capacity_bytes=int(data["capacity_bytes"]),
            transfer_syntaxes=tuple(str(t) for t in data["transfer_syntaxes"]),
            fsu=bool(data["fsu"]),
            record_keys=MappingProxyType(keys),
        )
    except KeyError as exc:
        raise ProfileError(f"profiles/{name}: missing key {exc}") from None
