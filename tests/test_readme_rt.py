"""The README documents every R code as CODES registers it, and every key of ``ls``'s ``rt``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fixtures.rtcourse import kind_of, make_course
from mediakit import rt
from mediakit.findings import CODES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def test_r_codes_are_rows_of_the_readme_table() -> None:
    table = README.split("<!-- codes:start -->", 1)[1].split("<!-- codes:end -->", 1)[0]
    rows = {
        cells[0]: cells[1:]
        for line in table.splitlines()
        if (cells := [c.strip() for c in line.strip().strip("|").split("|")])[0].startswith("R")
    }
    r_codes = [c for c in CODES if c.startswith("R")]
    assert list(rows) == r_codes  # same codes, same order
    for code in r_codes:
        entry = CODES[code]
        assert rows[code] == [entry.severity.value, entry.title, entry.ref], code


def _keys(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


def test_every_rt_key_is_documented() -> None:
    datasets = make_course(3, n_slices=2, matrix=4).datasets
    graph = rt.build_graph((kind_of(ds), ds) for ds in datasets)
    keys: set[str] = set()
    for node in graph.rt_nodes():
        _keys(rt.summarise(node, graph), keys)
    documented = set(re.findall(r"`([a-z_]+)`", README))
    assert keys - documented == set()
