"""A dangling symbolic link inside the medium, named like an image: S404, nothing to read."""

from __future__ import annotations

from pathlib import Path


def make(medium: Path) -> Path:
    (medium / "PT000000" / "IM999999").symlink_to("NOWHERE")
    return medium
