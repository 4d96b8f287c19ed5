"""Moderator passwords and sessions.

Passwords are hashed with Argon2id (argon2-cffi, the OWASP-recommended algorithm; the hash
carries its parameters, so they can be raised later and old hashes still verify).

A session is a row in the ``sessions`` table (a random id, the moderator, an expiry),
and the token the browser holds (cookie) or a script sends (``Authorization: Bearer``, from
``POST /api/login``) is that id and the moderator's name signed with itsdangerous (HMAC,
timestamped). Why a row and not only the signature: a signed token alone cannot be taken
back, so sign-out only cleared the cookie and a copied token went on working for 12 hours.
Now a session ends when its row goes: at sign-out (``POST /logout``, ``POST /api/logout``),
at a password change (``farmscore queue add-user NAME`` again) and when the moderator is
deactivated (``farmscore queue deactivate-user NAME``). The signature still comes first, so
a forged token never reaches the database. Server processes that share the database and
the secret (``$FARMSCORE_QUEUE_SECRET``) accept the same tokens; without a secret, a random
per-process one is used and sessions end when the server restarts.

A CSRF token for the HTML forms that change state (claiming on the review page) is an HMAC
of the session token (:meth:`Sessions.csrf_token`): a page elsewhere cannot read it.
"""

from __future__ import annotations

import hashlib
import hmac
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
        self._key = hashlib.sha256(b"farmscore-queue-csrf:" + secret.encode()).digest()
        self.max_age = max_age

    def issue(self, moderator: str, session_id: str) -> str:
        return self._s.dumps({"m": moderator, "i": session_id})

    def read(self, token: str | None) -> tuple[str, str] | None:
        """(moderator, session id) a token names, or None when it is missing, forged or
        expired (whether the session still lives is the database's to say)."""
        if not token or len(token) > 4096:
            return None
        try:
            data = self._s.loads(token, max_age=self.max_age)
        except (BadSignature, SignatureExpired, UnicodeError, ValueError):
            return None
        name = data.get("m") if isinstance(data, dict) else None
        sid = data.get("i") if isinstance(data, dict) else None
        return (name, sid) if isinstance(name, str) and isinstance(sid, str) else None

    def csrf_token(self, token: str) -> str:
        """The anti-CSRF value of a session's forms: HMAC of its token under the secret."""
        return hmac.new(self._key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str | None, sent: str | None) -> bool:
        return bool(token and sent) and hmac.compare_digest(self.csrf_token(token), sent)
