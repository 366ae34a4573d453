"""Reviewer sessions kept on the server: the cookie carries only a random session id, so
logging out ends the session everywhere (a copied cookie stops working) and a session
ends by itself after `web_session_s`.

Held in this process's memory: a restart logs reviewers out, and a second front door
does not know this one's sessions (sessions in the shared database come with issue 16).
"""

from __future__ import annotations

import secrets
import threading
import time


class WebSessions:
    def __init__(self, lifetime_s) -> None:
        self._lifetime_s = lifetime_s  # a callable: the config's value, read at each login
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[str, float]] = {}  # id -> (client id, ends at)

    def start(self, client_id: str) -> str:
        """A new session for `client_id`; returns its id (what the cookie holds)."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            now = time.time()
            self._sessions = {k: v for k, v in self._sessions.items() if v[1] > now}
            self._sessions[session_id] = (client_id, now + self._lifetime_s())
        return session_id

    def client_of(self, session_id: str) -> str | None:
        """The client a live session belongs to; None when unknown, ended or expired."""
        with self._lock:
            found = self._sessions.get(session_id)
            if found is None:
                return None
            if found[1] <= time.time():
                del self._sessions[session_id]
                return None
            return found[0]

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
