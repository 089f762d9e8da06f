"""Durable file steps for the store: fsync, reading a medium in chunks, and the crash hook."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

from mediakit.errors import MediaError

_CHUNK: Final = 1 << 20

# Test hook (README, "Tests"): MEDIAKIT_TEST_KILL_AT=POINT:N sends SIGKILL to this
# process the Nth time an import reaches POINT: "copied" (temporary file fsynced),
# "renamed" (file in place, row not yet committed) or "committed" (row committed,
# not yet logged). Unset, as in all normal use, it does nothing.
KILL_HOOK_ENV: Final = "MEDIAKIT_TEST_KILL_AT"


class KillHook:
    """Kills this process at a named point when the test hook asks for it; else inert."""

    def __init__(self) -> None:
        point, _, n = os.environ.get(KILL_HOOK_ENV, "").partition(":")
        self.point, self.left = point, int(n) if n.isdigit() else 0

    def reached(self, point: str) -> None:
        """Called at each named point of an import; the Nth call at the chosen one kills."""
        if self.left and point == self.point:
            self.left -= 1
            if not self.left:
                os.kill(os.getpid(), signal.SIGKILL)


def fsync_file(path: Path) -> None:
    """Make a file's bytes durable before it is renamed into place."""
    with open(path, "rb+") as fp:
        os.fsync(fp.fileno())


def chunks(src: BinaryIO) -> Iterator[bytes]:
    """A medium's stream in chunks; a read error is the medium's (MediaError)."""
    while True:
        try:
            chunk = src.read(_CHUNK)
        except OSError as exc:
            raise MediaError(f"cannot be read ({exc.strerror or exc})") from None
        if not chunk:
            return
        yield chunk
