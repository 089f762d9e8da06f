"""Lowercase names mastered by xorriso with Joliet: ISO 9660 names uppercase, Joliet lowercase."""

from __future__ import annotations

from pathlib import Path

from tests.media import _lib


def make(medium: Path) -> Path:
    _lib.needs("xorriso")
    lower = medium.parent / "lower"
    for path in sorted(p for p in medium.rglob("*") if p.is_file()):
        target = lower.joinpath(*(part.lower() for part in path.relative_to(medium).parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    image = medium.parent / "joliet.iso"
    _lib.run("xorriso", "-as", "mkisofs", "-quiet", "-J", "-V", "BASE", "-o", image, lower)
    return image
