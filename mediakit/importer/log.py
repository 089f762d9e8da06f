"""The store's import log: one JSON object per line, appended, for every decision.

The index is the truth about what is stored; the log says why: each run's start
and end, every instance imported, already present, in conflict, unreadable or
refused, and every repair of the store (temporaries removed, rows dropped, files
recovered). Lines are flushed as they are written and fsynced when the log closes.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mediakit.errors import InputError


def now() -> str:
    """The current time in UTC, ISO 8601 with a 'Z', to the microsecond."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ImportLog:
    """An append-only JSON-lines file."""

    def __init__(self, path: Path) -> None:
        try:
            self._fp = open(path, "a", encoding="utf-8")  # noqa: SIM115  (closed by close())
        except OSError as exc:
            raise InputError(f"{path}: cannot write the import log ({exc.strerror})") from None
        self._run: str | None = None

    def start(self, run: str) -> None:
        """Tag every following line with this run's id."""
        self._run = run

    def write(self, event: str, **fields: Any) -> None:
        """Append one line: time, run, event, then the fields given (None values dropped)."""
        entry = {"time": now(), "run": self._run, "event": event}
        entry.update({k: v for k, v in fields.items() if v is not None and v != []})
        self._fp.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._fp.flush()

    def close(self) -> None:
        """fsync and close."""
        try:
            os.fsync(self._fp.fileno())
        finally:
            self._fp.close()
