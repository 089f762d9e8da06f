"""P rules: one Part 10 file's preamble, File Meta and transfer syntax (PS3.10 §7).

Each rule looks at a :class:`~mediakit.part10.Header` only. The builder runs the
same rules before it re-encodes a file, and reports what it fixed with them.
"""

from __future__ import annotations

from collections.abc import Iterator

from mediakit.findings import Finding, finding
from mediakit.part10 import Header
from mediakit.profiles import Profile


def p101_file_meta_present(h: Header, where: str, profile: Profile) -> Iterator[Finding]:
    """The file starts with a 128-byte preamble and 'DICM' (PS3.10 §7.1)."""
    if not h.has_meta:
        yield finding("P101", where, "bare dataset")


def p102_preamble_harmless(h: Header, where: str, profile: Profile) -> Iterator[Finding]:
    """The preamble is zeros or a TIFF header, never anything executable (PS3.10 §7.5)."""
    if h.preamble == "other":
        yield finding("P102", where)


def p103_file_meta_complete(h: Header, where: str, profile: Profile) -> Iterator[Finding]:
    """Required File Meta elements are present and group 0002 is consistent (PS3.10 §7.1)."""
    for problem in h.meta_problems:
        yield finding("P103", where, problem)


def p104_file_meta_matches(h: Header, where: str, profile: Profile) -> Iterator[Finding]:
    """Media Storage SOP Class/Instance UIDs equal the dataset's (PS3.10 §7.1)."""
    for problem in h.meta_mismatch:
        yield finding("P104", where, problem)


def p105_transfer_syntax_allowed(h: Header, where: str, profile: Profile) -> Iterator[Finding]:
    """The file's transfer syntax is one the profile lists (PS3.11)."""
    if not profile.allows(h.transfer_syntax):
        yield finding("P105", where, f"{h.transfer_syntax} under {profile.id}")


def p107_no_group_0002_in_dataset(h: Header, where: str, profile: Profile) -> Iterator[Finding]:
    """Group 0002 appears only in the File Meta (PS3.10 §7.1)."""
    if h.group2_in_dataset:
        yield finding("P107", where)


def p108_sop_uids_present(h: Header, where: str, profile: Profile) -> Iterator[Finding]:
    """The dataset has SOP Class and SOP Instance UIDs (PS3.3 C.12.1); a DICOMDIR has none."""
    if h.is_directory:
        return
    missing = [
        n
        for n, v in (("SOPClassUID", h.sop_class_uid), ("SOPInstanceUID", h.sop_instance_uid))
        if not v
    ]
    if missing:
        yield finding("P108", where, ", ".join(missing) + " missing")


def p109_file_not_truncated(h: Header, where: str, profile: Profile) -> Iterator[Finding]:
    """Every element's value fits in the file (PS3.5 §7.1): none was cut short in transit."""
    if h.truncated is not None:
        yield finding("P109", where, h.truncated)


FILE_RULES = (
    p101_file_meta_present,
    p102_preamble_harmless,
    p103_file_meta_complete,
    p104_file_meta_matches,
    p105_transfer_syntax_allowed,
    p107_no_group_0002_in_dataset,
    p108_sop_uids_present,
    p109_file_not_truncated,
)
FIXABLE = frozenset({"P101", "P102", "P103", "P104", "P105", "P107"})


def file_findings(h: Header, where: str, profile: Profile) -> Iterator[Finding]:
    """Every P rule over one file's header."""
    for rule in FILE_RULES:
        yield from rule(h, where, profile)
