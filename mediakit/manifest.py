"""The SHA-256 manifest mediakit writes beside the DICOMDIR, and reads back to verify.

``SHA256.TXT`` in the root of the medium lists every other file (the DICOMDIR
included) in the format of GNU ``sha256sum``: 64 lowercase hex digits, two
spaces, the File ID with '/' between components. So ``sha256sum -c SHA256.TXT``
verifies a copied or extracted medium without mediakit. A last comment line
seals the manifest with the SHA-256 of the lines above it, so damage to the
manifest itself is told apart from damage to a file it lists. It is not a DICOM
file and no directory record references it (PS3.10 §8.1 lets a File-set hold
other files; IHE PDI asks for 8.3 names, which it has). Nothing is ever built
from the names it lists: they are only compared with names found on the medium.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Final

MANIFEST_NAME: Final = "SHA256.TXT"
MANIFEST_LIMIT: Final = 64 << 20  # 64 MiB: about 600k lines; larger is not ours
_LINE: Final = re.compile(r"^([0-9a-f]{64}) [ *](\S(?:.*\S)?)$")
_SEAL: Final = re.compile(rb"^# seal ([0-9a-f]{64})\n?$")
_HEADER: Final = "# SHA-256 of every file on this medium; verify with: sha256sum -c SHA256.TXT\n"


def format_manifest(items: Iterable[tuple[str, str]]) -> bytes:
    """Manifest text for (File ID as ``A/B/C``, SHA-256 hex) pairs, sorted by File ID.

    A last comment line seals the manifest itself: the SHA-256 of every byte
    before it. ``sha256sum -c`` skips lines that start with '#'.
    """
    body = (_HEADER + "".join(f"{sha}  {fid}\n" for fid, sha in sorted(items))).encode("ascii")
    return body + b"# seal " + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n"


def parse_manifest(data: bytes) -> tuple[Mapping[str, str] | None, list[str]]:
    """File ID -> SHA-256 from a manifest, and what is wrong with it.

    Returns None instead of the mapping when the manifest's seal does not match
    its content: the manifest itself is damaged and verifies nothing.
    """
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    seal = _SEAL.match(last)
    if seal is not None:
        if hashlib.sha256(body + b"\n").hexdigest() != seal[1].decode():
            return None, ["is damaged: its seal does not match its content"]
        data = body
    found: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        line = raw.decode("latin-1").rstrip("\r")
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            problems.append(f"line {number} is not '<sha256>  <File ID>'")
        elif match[2] in found:
            problems.append(f"line {number} lists {match[2]} again")
        else:
            found[match[2]] = match[1]
    return found, problems
