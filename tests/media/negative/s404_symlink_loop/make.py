"""Symbolic links on a folder medium that loop: A -> B -> A, and SELF -> SELF.

Following them would raise ELOOP (or, with Path.resolve, RuntimeError): each is
refused as S404, the rest of the medium is read.
"""

from __future__ import annotations

from pathlib import Path


def make(medium: Path) -> Path:
    folder = medium / "PT000000"
    (folder / "A").symlink_to("B")
    (folder / "B").symlink_to("A")
    (folder / "SELF").symlink_to("SELF")
    return medium
