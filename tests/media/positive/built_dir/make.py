"""The base medium as build writes it for USB: a folder."""

from __future__ import annotations

from pathlib import Path


def make(medium: Path) -> Path:
    return medium
