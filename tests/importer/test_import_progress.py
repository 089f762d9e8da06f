"""Import reports its stages through a callback; the command shows one bar per stage."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

from mediakit._types import Progress
from mediakit.importer import import_to_pacs, import_to_store
from mediakit.importer.pacs import PacsAddress, Settings
from tests.importer.scp import AET, flaky_scp


class Recorder:
    """Records each stage announced and the last (done, total) reported in it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, list[tuple[int, int]]]] = []

    def __call__(self, name: str) -> Progress:
        calls: list[tuple[int, int]] = []
        self.seen.append((name, calls))
        return lambda done, total: calls.append((done, total))


def test_store_import_reports_reading_copying_verifying(small_course: Path, tmp_path: Path) -> None:
    rec = Recorder()
    import_to_store(small_course, tmp_path / "s", stages=rec)
    assert [name for name, _ in rec.seen] == ["reading", "copying", "verifying"]
    for name, calls in rec.seen:
        assert calls and calls[-1][0] == calls[-1][1], name  # each stage ran to its end
    assert rec.seen[1][1][-1] == (9, 9) and rec.seen[2][1][-1] == (9, 9)
    again = Recorder()
    import_to_store(small_course, tmp_path / "s", stages=again)
    assert again.seen[2] == ("verifying", [])  # nothing written, nothing to read back


def test_pacs_import_reports_reading_sending(small_course: Path) -> None:
    rec = Recorder()
    with flaky_scp() as (port, _seen):
        fast = Settings(attempts=1, backoff=0.0, timeout=5.0)
        import_to_pacs(small_course, PacsAddress(AET, "127.0.0.1", port), settings=fast, stages=rec)
    assert [name for name, _ in rec.seen] == ["reading", "sending"]
    assert rec.seen[1][1][-1] == (9, 9)


def test_command_shows_one_bar_per_stage_on_a_terminal(small_course: Path, tmp_path: Path) -> None:
    """stderr is a pseudo-terminal here, as for a user; stdout stays clean."""
    leader, follower = pty.openpty()
    # a window of 24 x 100: tqdm draws nothing on a terminal of width 0 (a new pty's)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mediakit",
            "import",
            str(small_course),
            "--to",
            str(tmp_path / "s"),
        ],
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the follower closed: the process ended
            break
        if not chunk:
            break
        shown += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    assert proc.returncode == 0
    text = shown.decode(errors="replace")
    for stage in ("reading", "copying", "verifying"):
        assert stage in text, text
    assert b"\r" not in out and b"copying" not in out
