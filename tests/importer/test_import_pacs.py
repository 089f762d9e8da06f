"""``mediakit import MEDIA --pacs``: contexts, statuses, retries, dropped associations.

The receiving end is a pynetdicom SCP in a thread (tests/importer/scp.py) that
fails, aborts or rejects on purpose and records what it really stored.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner

from fixtures.rtcourse import write_course
from mediakit.cli import main
from mediakit.errors import InputError
from mediakit.importer import Outcome, import_to_pacs
from mediakit.importer.pacs import MAX_CONTEXTS, PacsAddress, Settings, batches, parse_address
from mediakit.importer.plan import Candidate
from mediakit.media import MediaFile
from mediakit.part10 import EXPLICIT_VR_LE, IMPLICIT_VR_LE, read_header
from tests.importer.scp import AET, Behaviour, flaky_scp
from tests.importer.storecheck import sha256

FAST = Settings(attempts=3, backoff=0.0, timeout=5.0)
CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two courses: Part 10 Explicit VR LE, and bare Implicit VR LE datasets (18 instances)."""
    root = tmp_path_factory.mktemp("pacs") / "medium"
    write_course(root / "explicit", seed=31, n_slices=2)
    write_course(root / "implicit", seed=32, n_slices=2, quirks=["no_meta"])
    return root


def _on_medium(medium: Path) -> dict[str, tuple[str, str]]:
    """SOP Instance UID -> (SOP Class UID, transfer syntax), read with pydicom directly."""
    out = {}
    for p in medium.rglob("*.dcm"):
        ds = pydicom.dcmread(p, force=True, stop_before_pixels=True)
        ts = ds.file_meta.get("TransferSyntaxUID") or IMPLICIT_VR_LE
        out[str(ds.SOPInstanceUID)] = (str(ds.SOPClassUID), str(ts))
    return out


def test_everything_stored_with_contexts_from_the_medium(mixed: Path) -> None:
    expected = _on_medium(mixed)
    with flaky_scp() as (port, seen):
        result = import_to_pacs(
            mixed, PacsAddress(AET, "127.0.0.1", port), calling_aet="RTSITE", settings=FAST
        )
    assert result.complete and result.summary()["imported"] == len(expected) == 18
    assert dict(seen.stored) == dict.fromkeys(expected, 1)
    assert seen.classes == {uid: cls for uid, (cls, _) in expected.items()}
    assert seen.connections == 1 and seen.calling == ["RTSITE"]
    proposed = {cls: ts for cls, ts in seen.contexts[0]}
    assert set(proposed) == {cls for cls, _ in expected.values()}  # RT classes included
    for cls, ts in expected.values():
        assert ts in proposed[cls]
        assert set(proposed[cls]) <= {EXPLICIT_VR_LE, IMPLICIT_VR_LE}
    assert all(r.status == 0 and r.attempts == 1 for r in result.instances)


def test_failures_are_retried_then_stored(mixed: Path) -> None:
    with flaky_scp(Behaviour(fail_first=2)) as (port, seen):
        result = import_to_pacs(mixed, PacsAddress(AET, "127.0.0.1", port), settings=FAST)
    assert result.complete
    assert all(r.attempts == 3 and r.status == 0 for r in result.instances)
    assert set(seen.requests.values()) == {3} and set(seen.stored.values()) == {1}


def test_persistent_failure_is_listed(mixed: Path) -> None:
    victim = next(u for u, (cls, _) in _on_medium(mixed).items() if cls.endswith(".481.5"))
    with flaky_scp(Behaviour(fail_always=frozenset({victim}))) as (port, seen):
        result = import_to_pacs(mixed, PacsAddress(AET, "127.0.0.1", port), settings=FAST)
    failed = [r for r in result.instances if r.outcome is Outcome.FAILED]
    assert [r.sop_instance_uid for r in failed] == [victim]
    assert failed[0].status == 0xA700 and failed[0].attempts == FAST.attempts
    assert [f.code for f in failed[0].findings] == ["I506"]
    assert "0xA700" in failed[0].findings[0].message
    assert seen.requests[victim] == FAST.attempts and victim not in seen.stored
    assert len(seen.stored) == 17 and not result.complete


def test_dropped_association_resumes_with_a_new_one(mixed: Path) -> None:
    with flaky_scp(Behaviour(abort_at=5)) as (port, seen):
        result = import_to_pacs(mixed, PacsAddress(AET, "127.0.0.1", port), settings=FAST)
    assert seen.aborted == 1 and seen.connections == 2
    assert result.complete and len(seen.stored) == 18
    assert sorted(r.attempts for r in result.instances) == [1] * 17 + [2]


def test_rejected_association_is_bounded_and_reported(mixed: Path) -> None:
    with flaky_scp() as (port, seen):
        result = import_to_pacs(mixed, PacsAddress("WRONGAET", "127.0.0.1", port), settings=FAST)
    assert seen.connections == FAST.attempts and not seen.stored
    assert result.summary()["failed"] == 18
    assert all([f.code for f in r.findings] == ["I509"] for r in result.instances)
    assert "rejected" in result.instances[0].findings[0].message


def test_nothing_listening(mixed: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        result = import_to_pacs(mixed, PacsAddress(AET, "127.0.0.1", port), settings=FAST)
    assert result.summary()["failed"] == 18
    assert "no connection" in result.instances[0].findings[0].message


def test_warning_status_is_stored_with_a_warning(mixed: Path) -> None:
    with flaky_scp(Behaviour(status=0xB000, warn=True)) as (port, seen):
        result = import_to_pacs(mixed, PacsAddress(AET, "127.0.0.1", port), settings=FAST)
    assert result.complete and len(seen.stored) == 18
    assert all([f.code for f in r.findings] == ["I507"] for r in result.instances)


def test_unsupported_class_fails_without_retry_and_exits_1(mixed: Path) -> None:
    with flaky_scp(Behaviour(classes=(CT,))) as (port, seen):
        run = CliRunner().invoke(
            main, ["import", str(mixed), "--pacs", f"{AET}@127.0.0.1:{port}", "--json"],
            catch_exceptions=False,
        )  # fmt: skip
    assert run.exit_code == 1
    doc = json.loads(run.stdout)
    assert doc["target"] == "pacs" and doc["status"] == "fail"
    assert doc["summary"]["imported"] == 4 == len(seen.stored)  # the CT slices
    refused = [i for i in doc["instances"] if i["outcome"] == "failed"]
    assert len(refused) == 14 and all(i["codes"] == ["I508"] for i in refused)
    assert all(i["attempts"] == 0 for i in refused)


def test_cli_text_summary(mixed: Path) -> None:
    with flaky_scp() as (port, _seen):
        run = CliRunner().invoke(
            main, ["import", str(mixed), "--pacs", f"{AET}@127.0.0.1:{port}", "--quiet"],
            catch_exceptions=False,
        )  # fmt: skip
    assert run.exit_code == 0
    assert run.output.strip().endswith("18 stored, 0 failed, 0 unreadable, 0 refused (OK)")


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("ORTHANC@127.0.0.1:4242", PacsAddress("ORTHANC", "127.0.0.1", 4242)),
        ("PACS@pacs.example.org:104", PacsAddress("PACS", "pacs.example.org", 104)),
        ("A B@[::1]:11112", PacsAddress("A B", "::1", 11112)),
    ],
)
def test_address(text: str, expect: PacsAddress) -> None:
    assert parse_address(text) == expect
    assert parse_address(str(expect)) == expect


@pytest.mark.parametrize(
    "text", ["ORTHANC", "@host:1", "A@host", "A@host:0", "A@host:70000", "TOOLONGAETITLE123@h:1",
             "A\\B@h:1", "A@h:p", "   @h:1"],
)  # fmt: skip
def test_bad_address(text: str) -> None:
    with pytest.raises(InputError):
        parse_address(text)


def test_more_than_128_contexts_are_split(tmp_path: Path) -> None:
    """Contexts are per SOP class (and compressed syntax): past 128, more associations."""
    write_course(tmp_path, seed=1, n_slices=1)
    header = read_header(next(tmp_path.glob("CT.1.dcm")))
    f = MediaFile("X", ("X",), header.size)
    cands = []
    for n in range(300):
        h = type(header)(**{**{s: getattr(header, s) for s in header.__slots__},
                            "sop_class_uid": f"1.2.3.{n % 200}"})  # fmt: skip
        cands.append(Candidate(f, h, "scan"))
    groups = list(batches(cands))
    assert [len({c.header.sop_class_uid for c in g}) for g in groups] == [MAX_CONTEXTS, 72]
    assert sum(len(g) for g in groups) == 300


@pytest.mark.parametrize(
    ("pacs", "said"),
    [
        ("A@nonexistent.invalid:104", "does not resolve"),
        ("TOOLONGAETITLE123@127.0.0.1:104", "AE title"),
        ("A@127.0.0.1:70000", "port 70000"),
    ],
)
def test_bad_address_is_exit_2_before_the_medium_is_read(
    tmp_path: Path, pacs: str, said: str
) -> None:
    """The medium named does not even exist: the address is what the one line is about."""
    missing = tmp_path / "no-such-medium"
    run = CliRunner().invoke(main, ["import", str(missing), "--pacs", pacs], catch_exceptions=False)
    assert run.exit_code == 2
    lines = run.output.strip().splitlines()
    assert len(lines) == 1 and said in lines[0] and str(missing) not in lines[0], run.output


def test_connection_reset_at_association_is_i509_with_retries(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError where the association is set up (a reset socket) is I509, not a crash."""
    with flaky_scp() as (port, seen):
        real = socket.socket.setsockopt

        def reset(self: socket.socket, level: int, opt: int, *args: object) -> None:
            if level == socket.IPPROTO_TCP and opt == socket.TCP_NODELAY:
                raise ConnectionResetError(104, "Connection reset by peer")
            real(self, level, opt, *args)  # type: ignore[call-overload]

        monkeypatch.setattr(socket.socket, "setsockopt", reset)
        run = CliRunner().invoke(
            main, ["import", str(mixed), "--pacs", f"{AET}@127.0.0.1:{port}", "--json"],
            catch_exceptions=False,
        )  # fmt: skip
    assert run.exit_code == 1, run.output
    doc = json.loads(run.stdout)
    assert doc["summary"]["failed"] == 18 and not seen.stored
    assert all(i["codes"] == ["I509"] for i in doc["instances"])
    assert seen.connections == 3  # the bounded tries, then listed
    i509 = [f for f in doc["findings"] if f["code"] == "I509"]
    assert "Connection reset by peer" in i509[0]["message"]


def test_oserror_from_associate_is_i509(mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def unreachable(*_args: object, **_kwargs: object) -> None:
        calls.append(1)
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr("pynetdicom.AE.associate", unreachable)
    result = import_to_pacs(mixed, PacsAddress(AET, "127.0.0.1", 9), settings=FAST)
    assert result.summary()["failed"] == 18 and len(calls) == FAST.attempts
    assert all([f.code for f in r.findings] == ["I509"] for r in result.instances)
    assert "Network is unreachable" in result.instances[0].findings[0].message


def test_reset_while_storing_resumes_with_a_new_association(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynetdicom.association import Association

    real = Association.send_c_store
    calls = [0]

    def flaky(self: Association, ds: object, *args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] == 4:
            self.abort()
            raise ConnectionResetError(104, "Connection reset by peer")
        return real(self, ds, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Association, "send_c_store", flaky)
    with flaky_scp() as (port, seen):
        result = import_to_pacs(mixed, PacsAddress(AET, "127.0.0.1", port), settings=FAST)
    assert result.complete and len(seen.stored) == 18 and seen.connections == 2
    assert sorted(r.attempts for r in result.instances) == [1] * 17 + [2]


def _doubled(root: Path) -> tuple[Path, str]:
    """A medium holding each instance of a course twice or more, and the RT Plan's UID.

    a/ the course; b/ a byte copy of a/; c/ the same datasets bare (Implicit VR, no File
    Meta); d/ the photon plan again under its UID with another RT Plan Label.
    """
    written = write_course(root / "a", seed=61, n_slices=2)
    shutil.copytree(root / "a", root / "b")
    write_course(root / "c", seed=61, n_slices=2, quirks=["no_meta"])
    plan = next(p for p in written if p.name == "RP.photon.dcm")
    ds = pydicom.dcmread(plan)
    ds.RTPlanLabel = "EDITED"
    (root / "d").mkdir()
    ds.save_as(root / "d" / "RP.photon.dcm")
    return root, str(ds.SOPInstanceUID)


def test_one_send_per_sop_instance_uid(tmp_path: Path) -> None:
    medium, plan_uid = _doubled(tmp_path / "medium")
    with flaky_scp() as (port, seen):
        run = CliRunner().invoke(
            main, ["import", str(medium), "--pacs", f"{AET}@127.0.0.1:{port}", "--json"],
            catch_exceptions=False,
        )  # fmt: skip
    assert run.exit_code == 1  # the edited plan was not sent
    assert set(seen.requests.values()) == {1} and len(seen.requests) == 9  # each UID once
    doc = json.loads(run.stdout)
    by_file = {i["file_id"]: i for i in doc["instances"]}
    assert all(i["outcome"] == "imported" for f, i in by_file.items() if f.startswith("a/"))
    same = [i for f, i in by_file.items() if f.startswith(("b/", "c/"))]
    assert len(same) == 18 and all(i["outcome"] == "already_present" for i in same)
    edited = by_file["d/RP.photon.dcm"]
    assert edited["outcome"] == "conflict" and edited["codes"] == ["I512"]
    assert edited["sop_instance_uid"] == plan_uid
    assert doc["summary"]["imported"] == 9 and doc["summary"]["conflict"] == 1


def test_sent_instances_carry_their_sha256(mixed: Path) -> None:
    with flaky_scp() as (port, _seen):
        result = import_to_pacs(mixed, PacsAddress(AET, "127.0.0.1", port), settings=FAST)
    on_disk = {p.relative_to(mixed).as_posix(): sha256(p) for p in mixed.rglob("*.dcm")}
    assert {r.file_id: r.sha256 for r in result.instances} == on_disk
