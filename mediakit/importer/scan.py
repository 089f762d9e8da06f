"""Find the bare datasets a snapshot did not read: DICOM without a File Meta, not referenced.

The snapshot reads the header of every Part 10 file (``DICM`` at byte 128) and of
every file the DICOMDIR references. A copied planning-system export has neither:
its files are bare datasets (Implicit VR Little Endian, no preamble, no File
Meta; pydicom's ``rtstruct.dcm``, pymedphys plans). Scanning for import must
find those too, so every other file whose first element is in group 0002 or 0008
(PS3.5 §7: elements are in ascending tag order, and an instance's first groups
are these) is read here, header only. Anything else is not DICOM and is skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Final

from mediakit.check.snapshot import FileFacts, Snapshot
from mediakit.errors import MediaError, MediakitError
from mediakit.media import Medium
from mediakit.part10 import read_header_stream

_FIRST_GROUPS: Final = frozenset({0x0002, 0x0008})
KEYWORDS: Final = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "PatientID",
    "PatientName",
    "StudyDate",
    "StudyID",
    "AccessionNumber",
    "Modality",
)


def _looks_like_dataset(head: bytes) -> bool:
    """A first tag in group 0002 or 0008, little or big endian."""
    if len(head) < 8:
        return False
    little, big = struct.unpack("<H", head[:2])[0], struct.unpack(">H", head[:2])[0]
    return little in _FIRST_GROUPS or big in _FIRST_GROUPS


def bare_datasets(medium: Medium, snap: Snapshot) -> Mapping[tuple[str, ...], FileFacts]:
    """Headers of the files the snapshot skipped that turn out to be bare DICOM datasets."""
    found: dict[tuple[str, ...], FileFacts] = {}
    for facts in snap.files:
        if facts.header is not None or facts.error is not None:
            continue
        try:
            with medium.open(facts.file) as fp:
                if not _looks_like_dataset(fp.read(8)):
                    continue
                fp.seek(0)
                header = read_header_stream(
                    fp, facts.file.size, where=facts.file.raw, keywords=KEYWORDS
                )
        except (OSError, MediaError, MediakitError):
            continue  # not DICOM after all: like any other non-DICOM file
        found[facts.file.parts] = FileFacts(facts.file, header, None, None)
    return found
