"""Send instances to a PACS by C-STORE (PS3.4 Annex B) with pynetdicom.

Presentation contexts are proposed from what is on the medium (PS3.8 §9.3.2.2):
one per SOP Class for the uncompressed Little Endian syntaxes (the files' own
first, then Explicit and Implicit VR Little Endian, which every SCP must
accept, PS3.5 §10.1), and one per SOP Class and syntax for everything else
(compressed, deflated, big endian), which is sent as it is, never transcoded.
More than 128 contexts (PS3.8 §9.3.2.2: IDs are odd numbers 1-255) are split
over several associations.

Each instance's C-STORE status is kept. A failure status is retried (later in
the same association) up to ``attempts`` requests in all; an association that
is aborted or dropped mid-way is re-established and the instance in flight is
sent again, which counts as an attempt; an association that cannot be
established is retried ``attempts`` times, then every instance still waiting is
reported as not stored. Nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import io
import re
import socket
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.status import code_to_category

from mediakit._types import Progress
from mediakit.errors import InputError, MediakitError, os_reason
from mediakit.findings import finding
from mediakit.importer.files import chunks
from mediakit.importer.plan import Candidate
from mediakit.importer.result import InstanceResult, Interrupted, Outcome
from mediakit.importer.unique import unique
from mediakit.media import Medium
from mediakit.part10 import EXPLICIT_VR_LE, IMPLICIT_VR_LE, file_meta_for, read_dataset

MAX_CONTEXTS: Final = 128  # presentation context IDs 1, 3, ..., 255 (PS3.8 §9.3.2.2)
_GROUPED: Final = (EXPLICIT_VR_LE, IMPLICIT_VR_LE)
# AE (PS3.5 §6.2): 16 characters at most, no backslash or control characters, not all spaces.
_AET: Final = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")
_ADDRESS: Final = re.compile(
    r"^(?P<aet>[^@]+)@(?P<host>\[[0-9A-Fa-f:.]+\]|[^:@\[\]]+):(?P<port>\d+)$"
)
ContextKey = tuple[str, tuple[str, ...]]  # (SOP Class UID, transfer syntaxes)


def check_aet(name: str, what: str) -> str:
    """An AE title as given, or an InputError saying why it is not one (PS3.5 §6.2)."""
    if not _AET.match(name) or not name.strip():
        raise InputError(
            f"{what} {name!r}: an AE title is 1-16 printable ASCII characters, no backslash"
        )
    return name.strip()


@dataclass(frozen=True, slots=True)
class PacsAddress:
    """Where to send: the called AE title, host and port."""

    aet: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.aet}@{host}:{self.port}"


def parse_address(text: str) -> PacsAddress:
    """``AET@HOST:PORT`` (an IPv6 host in brackets) into a :class:`PacsAddress`.

    Raises
    ------
    InputError
        When the text is not of that form, the AE title is invalid or the port out of range.
    """
    m = _ADDRESS.match(text.strip())
    if m is None:
        raise InputError(f"--pacs {text!r}: expected AET@HOST:PORT, e.g. ORTHANC@127.0.0.1:4242")
    port = int(m["port"])
    if not 0 < port < 65536:
        raise InputError(f"--pacs {text!r}: port {port} is not 1-65535")
    return PacsAddress(check_aet(m["aet"], "--pacs"), m["host"].strip("[]"), port)


def resolve(address: PacsAddress) -> PacsAddress:
    """``address`` when its host resolves to an IP address, else an InputError.

    Called before the medium is read: a typing error in the host name costs one line
    and exit 2, not a whole medium read and then every instance failed.
    """
    try:
        socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            f"--pacs {address}: host {address.host!r} does not resolve ({why})"
        ) from None
    return address


@dataclass(frozen=True, slots=True)
class Settings:
    """How persistent and patient the sender is."""

    attempts: int = 3  # C-STORE requests per instance, and tries to associate
    backoff: float = 1.0  # seconds before a retry (times the number of tries so far)
    timeout: float = 30.0  # connection, ACSE, DIMSE and network timeouts


def context_key(cand: Candidate) -> ContextKey:
    """The presentation context an instance travels in."""
    ts = cand.header.transfer_syntax
    return (cand.header.sop_class_uid, _GROUPED if ts in _GROUPED else (ts,))


def contexts_for(candidates: Sequence[Candidate]) -> list[ContextKey]:
    """The contexts to propose, in first-seen order; the files' own syntax leads each group."""
    out: dict[ContextKey, list[str]] = {}
    for cand in candidates:
        key = context_key(cand)
        syntaxes = out.setdefault(key, [])
        if cand.header.transfer_syntax not in syntaxes:
            syntaxes.append(cand.header.transfer_syntax)
    return [(k[0], (*v, *(t for t in k[1] if t not in v))) for k, v in out.items()]


def batches(candidates: Sequence[Candidate]) -> Iterator[list[Candidate]]:
    """Groups of candidates whose contexts fit one association (at most 128)."""
    by_key: dict[ContextKey, list[Candidate]] = {}
    for cand in candidates:
        by_key.setdefault(context_key(cand), []).append(cand)
    keys = list(by_key)
    for start in range(0, len(keys), MAX_CONTEXTS):
        yield [c for k in keys[start : start + MAX_CONTEXTS] for c in by_key[k]]


def _load(medium: Medium, cand: Candidate) -> tuple[Dataset, str]:
    """The whole dataset, with a fresh File Meta naming how it is encoded; the bytes' SHA-256."""
    with medium.open(cand.file) as fp:
        data = b"".join(chunks(fp))
    ds = read_dataset(io.BytesIO(data), cand.file.raw)
    if str(ds.get("SOPInstanceUID", "")).strip() != cand.header.sop_instance_uid:
        raise InputError("SOP Instance UID differs from the first reading: the medium changed")
    ds.file_meta = file_meta_for(cand.header, cand.header.transfer_syntax)
    return ds, hashlib.sha256(data).hexdigest()


def _why_not(assoc: Association, connected: bool) -> str:
    if not connected:
        return "no connection (refused, unreachable or timed out)"
    if assoc.is_rejected:
        return "association rejected by the peer (check the called AE title)"
    return "association aborted by the peer"


class _Sender:
    """One batch's retry loop: associate, send, retry, re-associate."""

    def __init__(
        self,
        medium: Medium,
        address: PacsAddress,
        calling_aet: str,
        settings: Settings,
        progress: Progress | None,
        total: int,
    ) -> None:
        self.medium, self.address, self.settings = medium, address, settings
        self.calling_aet = calling_aet
        self.progress, self.total = progress, total
        self.done: list[InstanceResult] = []
        self.sha256: dict[int, str] = {}  # id(candidate) -> SHA-256 of the bytes sent
        self.assoc: Association | None = None  # the one in use, aborted on Ctrl-C

    def _ae(self, batch: Sequence[Candidate]) -> AE:
        ae = AE(ae_title=self.calling_aet)
        t = self.settings.timeout
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = t
        for sop_class, syntaxes in contexts_for(batch):
            ae.add_requested_context(sop_class, list(syntaxes))
        return ae

    def _finish(self, result: InstanceResult) -> None:
        self.done.append(result)
        if self.progress:
            self.progress(len(self.done), self.total)

    def _result(
        self, cand: Candidate, outcome: Outcome, code: str | None, detail: str, status: int | None,
        tries: int,
    ) -> InstanceResult:  # fmt: skip
        return InstanceResult(
            outcome,
            cand.file_id,
            cand.header.sop_instance_uid,
            cand.header.sop_class_uid,
            sha256=self.sha256.get(id(cand)),
            status=status,
            attempts=tries,
            findings=(finding(code, cand.file_id, detail),) if code else (),
        )

    def _associate(self, ae: AE) -> Association | str:
        """An established association, or why there is none."""
        connected: list[bool] = []
        try:
            assoc = ae.associate(
                self.address.host,
                self.address.port,
                ae_title=self.address.aet,
                evt_handlers=[(evt.EVT_CONN_OPEN, lambda _event: connected.append(True))],
            )
        except OSError as exc:  # the name stopped resolving, no socket could be made
            return f"connection failed ({os_reason(exc)})"
        if not assoc.is_established:
            return _why_not(assoc, bool(connected))
        # Each C-STORE is a command PDU then data PDUs: with Nagle's algorithm the data
        # waits for the peer's delayed ACK (~40 ms an instance on Linux). Send at once.
        link = assoc.dul.socket
        raw = link.socket if link is not None else None
        try:
            if raw is not None:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # reset (or closed) as soon as it was established
            assoc.abort()
            return f"connection lost at once ({os_reason(exc)})"
        return assoc

    def run(self, batch: Sequence[Candidate]) -> None:
        """Send one batch: associate (bounded tries), send, retry, re-associate after a drop."""
        ae = self._ae(batch)
        pending: deque[tuple[Candidate, int]] = deque((c, 0) for c in batch)
        try:
            self._loop(ae, pending)
        except KeyboardInterrupt:
            if self.assoc is not None and self.assoc.is_established:
                self.assoc.abort()  # an A-ABORT, so the PACS does not wait for us
            raise

    def _loop(self, ae: AE, pending: deque[tuple[Candidate, int]]) -> None:
        assoc: Association | None = None
        failures = 0
        while pending:
            if assoc is None or not assoc.is_established:
                got = self._associate(ae)
                if isinstance(got, str):
                    failures += 1
                    if failures < self.settings.attempts:
                        time.sleep(self.settings.backoff * failures)
                        continue
                    why = f"{got}; {failures} tries"
                    for cand, tries in pending:
                        self._finish(self._result(cand, Outcome.FAILED, "I509", why, None, tries))
                    return
                assoc, failures = got, 0
                self.assoc = assoc
            cand, tries = pending.popleft()
            if tries:
                time.sleep(self.settings.backoff * tries)
            self._send(assoc, cand, tries, pending)
        if assoc is not None and assoc.is_established:
            try:
                assoc.release()
            except OSError:  # every instance is answered: a reset now loses nothing
                assoc.abort()

    def _send(
        self, assoc: Association, cand: Candidate, tries: int, pending: deque[tuple[Candidate, int]]
    ) -> None:
        sop_class, ts = cand.header.sop_class_uid, cand.header.transfer_syntax
        accepted = [cx for cx in assoc.accepted_contexts if cx.abstract_syntax == sop_class]
        if not any(_fits(ts, cx.transfer_syntax[0]) for cx in accepted):
            offered = ", ".join(sorted({cx.transfer_syntax[0] for cx in accepted})) or "none"
            detail = f"{sop_class} in {ts} (accepted for this class: {offered})"
            self._finish(self._result(cand, Outcome.FAILED, "I508", detail, None, tries))
            return
        try:
            ds, self.sha256[id(cand)] = _load(self.medium, cand)
        except (OSError, MediakitError) as exc:
            why = str(exc).removeprefix(f"{cand.file.raw}: ")
            self._finish(self._result(cand, Outcome.UNREADABLE, "I501", why, None, tries))
            return
        try:
            status = assoc.send_c_store(ds)
        except (RuntimeError, OSError):  # the association ended (reset) before the answer
            status = Dataset()
        except (ValueError, AttributeError) as exc:  # pynetdicom: cannot encode for the context
            self._finish(self._result(cand, Outcome.FAILED, "I506", str(exc), None, tries + 1))
            return
        tries += 1
        code = int(status.Status) if "Status" in status else None
        if code is None:  # no response: the association was aborted or dropped
            if assoc.is_established:
                assoc.abort()
            if tries < self.settings.attempts:
                pending.appendleft((cand, tries))
            else:
                why = f"association lost while storing; {tries} attempts"
                self._finish(self._result(cand, Outcome.FAILED, "I509", why, None, tries))
            return
        category = code_to_category(code)
        comment = str(status.get("ErrorComment", "")).strip()
        shown = f"status 0x{code:04X} ({category}{': ' + comment if comment else ''})"
        if category == "Success":
            self._finish(self._result(cand, Outcome.IMPORTED, None, "", code, tries))
        elif category == "Warning":
            self._finish(self._result(cand, Outcome.IMPORTED, "I507", shown, code, tries))
        elif tries < self.settings.attempts:
            pending.append((cand, tries))
        else:
            detail = f"{shown} after {tries} attempts"
            self._finish(self._result(cand, Outcome.FAILED, "I506", detail, code, tries))


def _fits(ts: str, accepted: str) -> bool:
    """Whether a dataset in ``ts`` can travel in a context accepted with ``accepted``."""
    return ts == accepted or (ts in _GROUPED and accepted in _GROUPED)


def send(
    medium: Medium,
    candidates: Sequence[Candidate],
    address: PacsAddress,
    *,
    calling_aet: str = "MEDIAKIT",
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> list[InstanceResult]:
    """C-STORE every candidate to ``address``; one result per candidate, in sending order.

    One candidate per SOP Instance UID is sent (:func:`mediakit.importer.unique.unique`):
    a later copy of the same instance is already present, one with other content I512.
    """
    sender = _Sender(
        medium,
        address,
        check_aet(calling_aet, "--calling-aet"),
        settings or Settings(),
        progress,
        len(candidates),
    )
    once = unique(medium, candidates)
    sender.total = len(once.candidates)
    try:
        for batch in batches(once.candidates):
            sender.run(batch)
    except KeyboardInterrupt:  # the association was aborted; what is answered stays answered
        raise Interrupted((*sender.done, *once.results)) from None
    return [*sender.done, *once.results]
