"""Find the bare datasets a snapshot did not read: DICOM without a File Meta, not referenced.

The snapshot reads the header of every Part 10 file (``DICM`` at byte 128) and of
every file the DICOMDIR references. A copied planning-system export has neither:
its files are bare datasets (Implicit VR Little Endian, no preamble, no File
Meta; pydicom's ``rtstruct.dcm``, pymedphys plans). Scanning for import must
find those too, so every other file that begins like a dataset
(:func:`mediakit.part10.plausible_dataset_start`: a first element in group 0002 or
0004, or in group 0008 no later than SOP Class UID; PS3.5 §7.1: elements are in
ascending tag order) is read here, header only. Anything else is not DICOM and is
skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mediakit.check.snapshot import FileFacts, Snapshot
from mediakit.errors import DamagedFileError, MediaError, MediakitError
from mediakit.media import Medium
from mediakit.part10 import plausible_dataset_start, read_header_stream

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


def bare_datasets(medium: Medium, snap: Snapshot) -> Mapping[tuple[str, ...], FileFacts]:
    """Headers of the files the snapshot skipped that turn out to be bare DICOM datasets."""
    found: dict[tuple[str, ...], FileFacts] = {}
    for facts in snap.files:
        if facts.header is not None or facts.error is not None:
            continue
        try:
            with medium.open(facts.file) as fp:
                if not plausible_dataset_start(fp.read(8)):
                    continue
                fp.seek(0)
                header = read_header_stream(
                    fp, facts.file.size, where=facts.file.raw, keywords=KEYWORDS
                )
        except DamagedFileError as exc:  # a bare dataset cut short: unreadable, not "not DICOM"
            found[facts.file.parts] = FileFacts(facts.file, None, exc.detail, None, exc.code)
            continue
        except (OSError, MediaError, MediakitError):
            continue  # not DICOM after all: like any other non-DICOM file
        found[facts.file.parts] = FileFacts(facts.file, header, None, None)
    return found
