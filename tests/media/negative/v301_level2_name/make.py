"""An image holding a name longer than ISO 9660 Level 1 allows."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    (medium / "LONGNAME_README.TXT").write_text("mastered at level 2\n")
    image = medium.parent / "level2.iso"
    _lib.run(
        "xorriso", "-as", "mkisofs", "-quiet", "-iso-level", "2", "-V", "BASE", "-o", image, medium
    )
    return image
