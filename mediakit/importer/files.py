"""Durable file steps for the store: fsync, reading a medium in chunks, and the crash hook."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

from mediakit.errors import MediaError

_CHUNK: Final = 1 << 20

# Test hook (README, "Tests"): MEDIAKIT_TEST_KILL_AT=POINT:N sends SIGKILL to this
# process the Nth time an import reaches POINT: "copied" (temporary file fsynced),
# "renamed" (file in place, row not yet committed) or "committed" (row committed,
# not yet logged); POINT:N:INT sends SIGINT instead (a Ctrl-C at that very point).
# Unset, as in all normal use, it does nothing.
KILL_HOOK_ENV: Final = "MEDIAKIT_TEST_KILL_AT"


class KillHook:
    """Kills this process at a named point when the test hook asks for it; else inert."""

    def __init__(self) -> None:
        point, _, rest = os.environ.get(KILL_HOOK_ENV, "").partition(":")
        n, _, sig = rest.partition(":")
        self.point, self.left = point, int(n) if n.isdigit() else 0
        self.signal = signal.SIGINT if sig == "INT" else signal.SIGKILL

    def reached(self, point: str) -> None:
        """Called at each named point of an import; the Nth call at the chosen one kills."""
        if self.left and point == self.point:
            self.left -= 1
            if not self.left:
                os.kill(os.getpid(), self.signal)


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


class Deferred:
    """Holds back Ctrl-C (SIGINT) for the span of one instance, then raises it.

    An instance is copied, fsynced, renamed and indexed as one step: a Ctrl-C in the
    middle would leave a file without its row (harmless, the next import adopts it,
    but not the clean store an interrupted import promises). The signal is noted and
    KeyboardInterrupt raised once the step is done, so an interrupt costs at most
    one instance's time. Only the main thread can handle signals; elsewhere, and
    when SIGINT is not Python's default handler, this does nothing.
    """

    def __init__(self) -> None:
        self.pending = False
        self._previous: object = None

    def _note(self, _signum: int, _frame: object) -> None:
        self.pending = True

    def __enter__(self) -> Deferred:
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
            self._previous = None
        if self.pending and exc[0] is None:
            self.pending = False
            raise KeyboardInterrupt
