"""Moderator passwords and sessions.

Passwords are hashed with Argon2id (argon2-cffi, the OWASP-recommended algorithm; the hash
carries its parameters, so they can be raised later and old hashes still verify).

A session is the moderator's name signed with itsdangerous (HMAC, with a timestamp so a
stolen cookie stops working after ``max_age``). Nothing is stored server side, so any
number of server processes accept the same cookie as long as they share the secret
(``$FARMSCORE_QUEUE_SECRET``); without one, a random per-process secret is used and
sessions end when the server restarts. The same signed value works as a Bearer token for
scripts (``POST /api/login``).

A session also carries a *stamp* of the moderator's password hash (:func:`session_stamp`):
when the password changes (``farmscore queue add-user NAME`` again) every session issued
before ends, and a deactivated moderator (``farmscore queue deactivate-user``) has none.
"""

from __future__ import annotations

import hashlib
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


def session_stamp(password_hash: str) -> str:
    """A short digest of a password hash: sessions issued under another password carry
    another stamp and are refused (the hash itself never leaves the server)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def default_secret() -> str:
    """$FARMSCORE_QUEUE_SECRET, else a random secret for this process."""
    return os.environ.get("FARMSCORE_QUEUE_SECRET") or secrets.token_urlsafe(32)


class Sessions:
    """Signs and checks session tokens (cookie value or Bearer token)."""

    def __init__(self, secret: str, max_age: int = SESSION_MAX_AGE):
        self._s = URLSafeTimedSerializer(secret, salt="farmscore-queue-session")
        self.max_age = max_age

    def issue(self, moderator: str, stamp: str = "") -> str:
        return self._s.dumps({"m": moderator, "s": stamp})

    def read(self, token: str | None) -> tuple[str, str] | None:
        """(moderator, stamp) a token names, or None when it is missing, forged or expired."""
        if not token or len(token) > 4096:
            return None
        try:
            data = self._s.loads(token, max_age=self.max_age)
        except (BadSignature, SignatureExpired, UnicodeError, ValueError):
            return None
        name = data.get("m") if isinstance(data, dict) else None
        stamp = data.get("s", "") if isinstance(data, dict) else ""
        return (name, stamp) if isinstance(name, str) and isinstance(stamp, str) else None
