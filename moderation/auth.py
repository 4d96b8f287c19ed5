"""Moderator passwords and sessions.

Passwords are hashed with Argon2id (argon2-cffi, the OWASP-recommended algorithm; the hash
carries its parameters, so they can be raised later and old hashes still verify).

A session is the moderator's name signed with itsdangerous (HMAC, with a timestamp so a
stolen cookie stops working after ``max_age``). Nothing is stored server side, so any
number of server processes accept the same cookie as long as they share the secret
(``$FARMSCORE_QUEUE_SECRET``); without one, a random per-process secret is used and
sessions end when the server restarts. The same signed value works as a Bearer token for
scripts (``POST /api/login``).
"""

from __future__ import annotations

import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher()
#: A valid hash of a random password, verified when the user does not exist, so a wrong
#: name costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
SESSION_COOKIE = "farmscore_queue_session"
SESSION_MAX_AGE = 12 * 3600


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def default_secret() -> str:
    """$FARMSCORE_QUEUE_SECRET, else a random secret for this process."""
    return os.environ.get("FARMSCORE_QUEUE_SECRET") or secrets.token_urlsafe(32)


class Sessions:
    """Signs and checks session tokens (cookie value or Bearer token)."""

    def __init__(self, secret: str, max_age: int = SESSION_MAX_AGE):
        self._s = URLSafeTimedSerializer(secret, salt="farmscore-queue-session")
        self.max_age = max_age

    def issue(self, moderator: str) -> str:
        return self._s.dumps({"m": moderator})

    def read(self, token: str | None) -> str | None:
        """The moderator a token names, or None when it is missing, forged or expired."""
        if not token:
            return None
        try:
            data = self._s.loads(token, max_age=self.max_age)
        except (BadSignature, SignatureExpired):
            return None
        name = data.get("m") if isinstance(data, dict) else None
        return name if isinstance(name, str) else None
