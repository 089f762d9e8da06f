"""DCMTK's dcmmkdir writes the DICOMDIR, genisoimage masters the image (an FSC we did not write)."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    _lib.needs("dcmmkdir", "genisoimage")
    (medium / "DICOMDIR").unlink()
    files = [str(p.relative_to(medium)) for p in _lib.instances(medium)]
    _lib.run("dcmmkdir", "-Pgp", "+F", "BASE", *files, cwd=medium)
    image = medium.parent / "dcmtk.iso"
    _lib.run("genisoimage", "-quiet", "-V", "BASE", "-o", image, medium)
    return image
