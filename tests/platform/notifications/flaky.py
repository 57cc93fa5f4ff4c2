"""Two outbox subscribers of the tests' own, registered on import: by the test process,
and by a real worker started with ``--include tests.platform.notifications.flaky``.

Both hear only ``test.flaky`` events. ``flaky`` fails the first ``failures`` times it is
given an event (``failures`` is in the event's payload), ``healthy`` never fails; each
call is appended to the file ``FLAKY_LOG`` names, so a test sees calls made in a worker.
"""

from __future__ import annotations

import os
from pathlib import Path

from civicgrid.platform.notifications.outbox import subscriber

TOPIC = "test.flaky"


def log_path() -> Path | None:
    return Path(os.environ["FLAKY_LOG"]) if os.environ.get("FLAKY_LOG") else None


def calls(who: str, event_id: int, outcome: str | None = None) -> int:
    """How often ``who`` was called with the event (ending with ``outcome``, if given)."""
    path = log_path()
    if path is None or not path.exists():
        return 0
    lines = [line.split() for line in path.read_text().splitlines()]
    return sum(1 for line in lines if line[:2] == [who, str(event_id)] and outcome in (None, line[2]))


def _log(who: str, event_id: int, outcome: str) -> None:
    path = log_path()
    if path is not None:
        with path.open("a") as log:
            log.write(f"{who} {event_id} {outcome}\n")


@subscriber
def flaky(event) -> None:
    if event.topic != TOPIC:
        return
    if calls("flaky", event.pk) < int(event.payload.get("failures", 0)):
        _log("flaky", event.pk, "failed")
        raise RuntimeError("the flaky subscriber fails, as told")
    _log("flaky", event.pk, "delivered")


@subscriber
def healthy(event) -> None:
    if event.topic == TOPIC:
        _log("healthy", event.pk, "delivered")
