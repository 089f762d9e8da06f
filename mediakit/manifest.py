"""The SHA-256 manifest mediakit writes beside the DICOMDIR, and reads back to verify.

``SHA256.TXT`` in the root of the medium lists every other file (the DICOMDIR
included) in the format of GNU ``sha256sum``: 64 lowercase hex digits, two
spaces, the File ID with '/' between components. So ``sha256sum -c SHA256.TXT``
verifies a copied or extracted medium without mediakit. It is not a DICOM
file and no directory record references it (PS3.10 §8.1 lets a File-set hold
other files; IHE PDI asks for 8.3 names, which it has). Nothing is ever built
from the names it lists: they are only compared with names found on the medium.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

MANIFEST_NAME: Final = "SHA256.TXT"
MANIFEST_LIMIT: Final = 64 << 20  # 64 MiB: about 600k lines; larger is not ours
_LINE: Final = re.compile(r"^([0-9a-f]{64}) [ *](\S(?:.*\S)?)$")


def format_manifest(items: Iterable[tuple[str, str]]) -> bytes:
    """Manifest text for (File ID as ``A/B/C``, SHA-256 hex) pairs, sorted by File ID."""
    return "".join(f"{sha}  {fid}\n" for fid, sha in sorted(items)).encode("ascii")


def parse_manifest(data: bytes) -> tuple[Mapping[str, str], list[str]]:
    """File ID -> SHA-256 from a manifest, and a description of each line that does not parse."""
    found: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        line = raw.decode("latin-1").rstrip("\r")
        if not line:
            continue
        match = _LINE.match(line)
        if match is None:
            problems.append(f"line {number} is not '<sha256>  <File ID>'")
        elif match[2] in found:
            problems.append(f"line {number} lists {match[2]} again")
        else:
            found[match[2]] = match[1]
    return found, problems
