"""A symbolic link on the medium pointing outside it."""

from __future__ import annotations

from pathlib import Path


def make(medium: Path) -> Path:
    (medium / "PT000000" / "LINK").symlink_to("/etc/passwd")
    return medium
