"""Reviewer sessions kept in the database: the cookie carries only a random session id
(the database knows its SHA-256, never the id), so logging out ends the session
everywhere (a copied cookie stops working), a session ends by itself after
`web_session_s`, and any front door on the same database knows every session.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from safety.store.interface import WebSessionStore


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class WebSessions:
    def __init__(self, store: WebSessionStore, lifetime_s) -> None:
        self._store = store
        self._lifetime_s = lifetime_s  # a callable: the config's value, read at each login

    def start(self, client_id: str) -> str:
        """A new session for `client_id`; returns its id (what the cookie holds)."""
        session_id = secrets.token_urlsafe(32)
        self._store.add_web_session(
            _digest(session_id), client_id, time.time() + self._lifetime_s()
        )
        return session_id

    def client_of(self, session_id: str) -> str | None:
        """The client a live session belongs to; None when unknown, ended or expired."""
        if not session_id:
            return None
        return self._store.web_session(_digest(session_id), time.time())

    def end(self, session_id: str) -> None:
        if session_id:
            self._store.end_web_session(_digest(session_id))
