"""Named points between two durable steps, where a crash test stops the server to kill it.

`kill -9` at a random moment rarely lands between, say, signing a release and recording
it; a fail point makes it land there every time. Off unless `REELGUARD_FAILPOINT` names
the point: the thread that reaches it writes the point's name to
`REELGUARD_FAILPOINT_MARKER` (if set) and waits for the kill, while the rest of the
server runs on. Like FoundationDB's or TiKV's fail points, it exists to prove recovery.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

ENV, MARKER_ENV = "REELGUARD_FAILPOINT", "REELGUARD_FAILPOINT_MARKER"


def reach(name: str) -> None:
    """Wait here forever if this point is the one configured; otherwise return at once."""
    if os.environ.get(ENV) != name:
        return
    log.warning("fail point %s reached: waiting to be killed", name)
    marker = os.environ.get(MARKER_ENV)
    if marker:
        Path(marker).write_text(name)
    threading.Event().wait()
