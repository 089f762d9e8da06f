"""Whether two files hold the same instance in different encodings (not a conflict)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Final

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import BaseTag

_PAD: Final = BaseTag(0xFFFCFFFC)  # Data Set Trailing Padding (PS3.10 §7.2)


def _dataset(path: Path) -> Dataset | None:
    """The dataset without group 0002, group lengths and padding; None when unreadable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, force=True)
            drop = [t for t in list(ds.keys()) if t.group == 2 or t.element == 0 or t == _PAD]
            for tag in drop:
                del ds[tag]
            ds.file_meta = FileMetaDataset()
            _ = [e.value for e in ds.iterall()]  # decode now: a failure is "not the same"
        except Exception:  # pydicom raises many types on damaged input
            return None
    return ds


def same_dataset(a: Path, b: Path) -> bool:
    """True when two files hold the same dataset, element by element, in whatever encoding.

    The same instance arrives as a bare Implicit VR export on one medium and as a
    Part 10 Explicit VR file on another: different bytes, not a conflict. Only
    the encoding may differ (File Meta, VR explicitness, group lengths, padding);
    any other difference, or a file that cannot be read, is a conflict.
    """
    da, db = _dataset(a), _dataset(b)
    return da is not None and db is not None and da == db
