"""Run check, ls and import on one medium in this process; print what they did as JSON.

``python tests/media/_drive.py MEDIUM STORE PROFILE``: the corpus test runs
this in a subprocess under a memory limit, so one medium costs one interpreter
start. Each command's exit code, time, whether it ended in a traceback, and
check's own JSON document. ``python tests/media/_drive.py --many LIST.json``
does the same for every ``[MEDIUM, STORE, PROFILE]`` of the list and prints a
list: the loop tests (a file cut at every boundary) pay one start for all.
"""

from __future__ import annotations

import json
import sys
import time

from click.testing import CliRunner

from mediakit.cli import main


def _run(*args: str) -> dict[str, object]:
    started = time.monotonic()
    result = CliRunner().invoke(main, list(args))
    return {
        "exit": result.exit_code,
        "seconds": time.monotonic() - started,
        "traceback": (result.exc_info is not None and result.exit_code == 3)
        or "Traceback" in result.output,
        "output": result.stdout,
    }


def _every_command(medium: str, store: str, profile: str) -> dict[str, object]:
    return {
        "check": _run("check", medium, "--profile", profile, "--json"),
        "ls": _run("ls", medium, "--json"),
        "import": _run("import", medium, "--to", store, "--json"),
    }


if __name__ == "__main__":
    if sys.argv[1] == "--many":
        with open(sys.argv[2], encoding="utf-8") as fp:
            print(json.dumps([_every_command(*triple) for triple in json.load(fp)]))
    else:
        print(json.dumps(_every_command(*sys.argv[1:4])))
