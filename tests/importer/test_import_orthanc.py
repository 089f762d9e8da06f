"""Import into a real PACS: Debian's Orthanc, started here on free loopback ports.

Orthanc runs from a temporary JSON config (its own storage and index folders,
no plugins, HTTP on 127.0.0.1 only) and is stopped after each test. What it
stored is read back from its REST API, never taken from mediakit's report.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest

from fixtures.rtcourse import write_course

ORTHANC = shutil.which("Orthanc") or shutil.which("Orthanc", path="/usr/sbin")  # Debian: sbin
pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(ORTHANC is None, reason="Orthanc not installed (apt-get install orthanc)"),
]
RT_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.481.5": "RT Plan",
    "1.2.840.10008.5.1.4.1.1.481.8": "RT Ion Plan",
    "1.2.840.10008.5.1.4.1.1.481.2": "RT Dose",
    "1.2.840.10008.5.1.4.1.1.481.3": "RT Structure Set",
    "1.2.840.10008.5.1.4.1.1.481.4": "RT Beams Treatment Record",
    "1.2.840.10008.5.1.4.1.1.481.1": "RT Image",
    "1.2.840.10008.5.1.4.1.1.66.1": "Spatial Registration",
}


@dataclass(frozen=True)
class Orthanc:
    """A running Orthanc: its DICOM address and REST API."""

    aet: str
    dicom_port: int
    http: str

    def get(self, path: str) -> object:
        with urllib.request.urlopen(self.http + path, timeout=10) as resp:
            return json.load(resp)

    def find(self, sop_instance_uid: str) -> list[str]:
        """Orthanc's ids of the instances with this SOP Instance UID (its /tools/find)."""
        query = {"Level": "Instance", "Query": {"SOPInstanceUID": sop_instance_uid}}
        req = urllib.request.Request(
            self.http + "/tools/find", data=json.dumps(query).encode(), method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            got = json.load(resp)
        assert isinstance(got, list)
        return [str(i) for i in got]

    def stored(self) -> dict[str, str]:
        """SOP Instance UID -> SOP Class UID of every instance Orthanc holds."""
        ids = self.get("/instances")
        assert isinstance(ids, list)
        out = {}
        for i in ids:
            tags = self.get(f"/instances/{i}/simplified-tags")
            assert isinstance(tags, dict)
            out[tags["SOPInstanceUID"]] = tags["SOPClassUID"]
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """Orthanc with a fresh storage folder, default SOP class and syntax policy, no plugins.

    One server for this module (it takes seconds to stop); each test checks its own UIDs.
    """
    assert ORTHANC is not None
    root = tmp_path_factory.mktemp("orthanc")
    dicom_port, http_port = _free_port(), _free_port()
    config = {
        "Name": "MEDIAKIT-TEST",
        "StorageDirectory": str(root / "storage"),
        "IndexDirectory": str(root / "index"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": "ORTHANC",
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "HttpServerEnabled": True,
        "DicomServerEnabled": True,
        "OrthancExplorerEnabled": False,
        "WebDavEnabled": False,
        "LuaScripts": [],
        "Plugins": [],
        # Orthanc's defaults, stated so the test shows what it relies on: standard storage
        # SOP classes only (RT ones are among them) and the uncompressed syntaxes 1.2.840.10008.1.*
        "UnknownSopClassAccepted": False,
        "AcceptedTransferSyntaxes": ["1.2.840.10008.1.*"],
        # Not the default: a second C-STORE of a UID replaces the first, so a test can see
        # from Orthanc's side which of two contents under one UID was sent last.
        "OverwriteInstances": True,
    }
    cfg = root / "orthanc.json"
    cfg.write_text(json.dumps(config))
    log = open(root / "orthanc.log", "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([ORTHANC, str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    server = Orthanc("ORTHANC", dicom_port, f"http://127.0.0.1:{http_port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.get("/system")
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (root / "orthanc.log").read_text(errors="replace")[-2000:]
                    pytest.fail(f"Orthanc did not start:\n{tail}")
                time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _send(medium: Path, orthanc: Orthanc, exit_code: int = 0) -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, "-m", "mediakit", "import", str(medium),
         "--pacs", f"{orthanc.aet}@127.0.0.1:{orthanc.dicom_port}", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == exit_code, run.stderr + run.stdout[-2000:]
    doc = json.loads(run.stdout)
    assert isinstance(doc, dict)
    return doc


def _expected(folder: Path) -> dict[str, str]:
    """SOP Instance UID -> SOP Class UID of the exported files, read with pydicom."""
    out = {}
    for p in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(p, force=True, stop_before_pixels=True)
        out[str(ds.SOPInstanceUID)] = str(ds.SOPClassUID)
    return out


def test_200_instance_rt_medium_lands_in_orthanc(
    rt200_iso: Path, rt200_source: Path, orthanc: Orthanc
) -> None:
    doc = _send(rt200_iso, orthanc)
    assert doc["summary"] == {**doc["summary"], "imported": 200, "failed": 0}  # type: ignore[dict-item]
    expected = _expected(rt200_source)
    assert len(expected) == 200
    stored = {uid: cls for uid, cls in orthanc.stored().items() if uid in expected}
    assert stored == expected
    kinds = set(stored.values())
    assert set(RT_CLASSES) <= kinds, {RT_CLASSES[c] for c in set(RT_CLASSES) - kinds}


def test_bare_implicit_export_lands_in_orthanc(tmp_path: Path, orthanc: Orthanc) -> None:
    """Files without File Meta (a raw planning-system export, no DICOMDIR) go in as well."""
    export = tmp_path / "export"
    write_course(export, seed=41, n_slices=3, quirks=["no_meta", "no_instance_number"])
    expected = _expected(export)
    before = len(orthanc.stored())
    _send(export, orthanc)
    stored = orthanc.stored()
    assert {uid: cls for uid, cls in stored.items() if uid in expected} == expected
    assert len(stored) == before + len(expected) == before + 10
    again = _send(export, orthanc)  # resending is harmless: Orthanc keeps one copy
    assert again["summary"]["imported"] == 10  # type: ignore[index]
    assert len(orthanc.stored()) == before + 10


def test_two_contents_under_one_uid_only_the_first_reaches_orthanc(
    tmp_path: Path, orthanc: Orthanc
) -> None:
    """a/ is the course, b/ an edited RT Plan under the plan's UID: Orthanc holds a/'s plan."""
    written = write_course(tmp_path / "m" / "a", seed=43, n_slices=2)
    plan = pydicom.dcmread(next(p for p in written if p.name == "RP.photon.dcm"))
    label = str(plan.RTPlanLabel)
    plan.RTPlanLabel = "EDITED"
    (tmp_path / "m" / "b").mkdir()
    plan.save_as(tmp_path / "m" / "b" / "RP.photon.dcm")
    doc = _send(tmp_path / "m", orthanc, exit_code=1)
    codes = [f["code"] for f in doc["findings"]]  # type: ignore[attr-defined]
    assert codes.count("I512") == 1
    found = orthanc.find(str(plan.SOPInstanceUID))
    assert len(found) == 1
    tags = orthanc.get(f"/instances/{found[0]}/simplified-tags")
    assert isinstance(tags, dict) and tags["RTPlanLabel"] == label != "EDITED"
