"""The module map of style.md §4: imports flow one way; only cli imports click and tqdm."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mediakit"
FOUNDATION = {"errors", "findings", "profiles", "tags", "_types"}
FORMATS = {
    "part10",
    "headerframe",
    "headerlimits",
    "iso",
    "rt",
    "manifest",
    "media",
    "ziparchive",
    "dicomdir",
    "inputs",
    "render",
    "pdi",
}
# module (top-level name inside mediakit) -> mediakit modules it may import
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_types": set(),
    "findings": {"errors"},
    "profiles": {"errors", "findings", "tags"},
    "tags": set(),
    "part10": FOUNDATION | {"headerframe", "headerlimits"},
    "headerframe": FOUNDATION | {"headerlimits"},  # frames only what the limits cannot stop
    "headerlimits": FOUNDATION,
    "iso": FOUNDATION,
    "rt": FOUNDATION,
    "manifest": FOUNDATION,
    "media": FOUNDATION | {"iso", "ziparchive"},
    "ziparchive": FOUNDATION,
    "dicomdir": FOUNDATION | {"part10", "dicomdir"},
    "inputs": FOUNDATION | {"media", "manifest", "part10"},
    "render": FOUNDATION | {"dicomdir", "rt", "check"},
    "pdi": FOUNDATION | {"dicomdir", "rt", "check", "render"},  # render's INDEX.HTM/README.TXT
    "check": FOUNDATION | FORMATS - {"render", "pdi", "inputs"} | {"check"},
    "build": FOUNDATION | FORMATS | {"check", "deid", "split", "volumes"},
    # build's stages: de-identify, plan the volumes, write and verify them (jobs)
    "deid": FOUNDATION | FORMATS | {"check"},
    "split": FOUNDATION,
    "volumes": FOUNDATION | FORMATS | {"check", "split"},
    "importer": FOUNDATION | FORMATS | {"check"},
    "cli": {"*"},
    "__main__": {"cli"},
    "__init__": set(),
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _top(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    return rel.parts[0]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            if node.module == "mediakit":
                out.update(f"mediakit.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_module_map(path: Path) -> None:
    top = _top(path)
    assert top in ALLOWED, f"{top} is not in the module map (style.md §4)"
    imported = _imports(path)
    ui = {m for m in imported if m.split(".")[0] in ("click", "tqdm")}
    if top != "cli":
        assert not ui, f"{path.name} imports {ui}: only cli may"
    allowed = ALLOWED[top]
    if "*" in allowed:
        return
    ours = {m.split(".")[1] for m in imported if m.startswith("mediakit.")}
    ours.discard("IMPLEMENTATION_CLASS_UID")
    ours.discard("IMPLEMENTATION_VERSION_NAME")
    ours.discard("__version__")
    assert ours <= allowed | {top}, f"{path.name} imports {sorted(ours - allowed)}"
