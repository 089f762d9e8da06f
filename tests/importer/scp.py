"""A pynetdicom Storage SCP in a thread that misbehaves on purpose: fails, aborts, rejects.

It records what it was asked and what it stored, so tests check the sender
against the receiver's view, not against the sender's own report.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pynetdicom import AE, AllStoragePresentationContexts, build_context, evt

AET = "FLAKYSCP"


@dataclass
class Behaviour:
    """What the SCP does; every count is per SOP Instance UID unless said otherwise."""

    fail_first: int = 0  # answer `status` to the first N requests of each instance
    fail_always: frozenset[str] = frozenset()  # always answer `status` for these
    status: int = 0xA700  # the failure (or warning) status to answer
    warn: bool = False  # answer `status` as a warning, storing the instance
    abort_at: int | None = None  # abort the association at this request number (once, in all)
    classes: tuple[str, ...] | None = None  # SOP classes supported (None: all storage)
    delay: float = 0.0  # seconds to wait before answering each request (a slow PACS)


@dataclass
class Seen:
    """What happened at the SCP."""

    stored: Counter[str] = field(default_factory=Counter)  # SOP Instance UID -> times stored
    requests: Counter[str] = field(default_factory=Counter)  # SOP Instance UID -> C-STOREs
    classes: dict[str, str] = field(default_factory=dict)  # SOP Instance UID -> SOP Class UID
    contexts: list[list[tuple[str, tuple[str, ...]]]] = field(default_factory=list)
    connections: int = 0
    aborted: int = 0
    calling: list[str] = field(default_factory=list)


@contextmanager
def flaky_scp(behaviour: Behaviour | None = None) -> Iterator[tuple[int, Seen]]:
    """Run the SCP on a free loopback port; yield (port, what it saw)."""
    how = behaviour or Behaviour()
    seen = Seen()
    lock = threading.Lock()
    total = [0]
    ae = AE(ae_title=AET)
    ae.require_called_aet = True
    if how.classes is None:
        ae.supported_contexts = AllStoragePresentationContexts
    else:
        ae.supported_contexts = [build_context(c) for c in how.classes]

    def on_store(event: Any) -> int:
        if how.delay:
            time.sleep(how.delay)
        ds = event.dataset
        uid = str(ds.SOPInstanceUID)
        with lock:
            total[0] += 1
            seen.requests[uid] += 1
            if how.abort_at is not None and total[0] == how.abort_at and not seen.aborted:
                seen.aborted += 1
                event.assoc.abort()
                return 0x0000  # never sent: the association is gone
            failing = uid in how.fail_always or seen.requests[uid] <= how.fail_first
            if failing and not how.warn:
                return how.status
            seen.stored[uid] += 1
            seen.classes[uid] = str(ds.SOPClassUID)
            return how.status if how.warn else 0x0000

    def on_accepted(event: Any) -> None:
        with lock:
            rq = event.assoc.requestor
            seen.calling.append(str(rq.ae_title).strip())
            seen.contexts.append(
                [(str(c.abstract_syntax), tuple(map(str, c.transfer_syntax)))
                 for c in rq.requested_contexts]
            )  # fmt: skip

    def on_open(event: Any) -> None:
        with lock:
            seen.connections += 1

    handlers = [
        (evt.EVT_C_STORE, on_store),
        (evt.EVT_ACCEPTED, on_accepted),
        (evt.EVT_CONN_OPEN, on_open),
    ]
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
