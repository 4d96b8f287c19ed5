"""API settings, all from environment variables, read once at app creation.

Why environment variables: the same image runs under uvicorn, in tests and behind a process
manager; each deployment tunes its limits without a config file (12-factor style). Every
limit has a safe default so ``farmscore serve`` works with nothing set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ValueError(f"${name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"${name} must be >= {minimum}, got {value}")
    return value


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"${name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"${name} must be > 0, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Limits and locations of one API process (see the README's "Scoring API" section)."""

    #: Largest request body, counted as bytes arrive (chunked bodies too): 413 beyond it.
    max_body_bytes: int = 32 * 1024 * 1024
    #: Request body bytes one process holds at once, all requests together (declared
    #: lengths reserved before reading, chunked bodies as they arrive): 503 beyond it.
    #: None: 4 x ``max_body_bytes``.
    max_inflight_body_bytes: int | None = None
    #: Requests one process handles at once (health checks and metrics excepted): 503 beyond.
    max_inflight_requests: int = 512
    #: Most pages in one batch request: 422 beyond it.
    max_batch: int = 500
    #: Longest ``text``/``html`` of one page in characters: 422 (single) or a per-page
    #: ``too_large`` error (batch) beyond it.
    max_text_chars: int = 1_000_000
    #: Wall-clock limit of one request (waiting for a slot + scoring): 504 when scoring
    #: runs past it (a request that cannot start in time is 503, see ``max_wait_s``).
    timeout_s: float = 30.0
    #: Scoring jobs running at once in this process (threads of the scoring pool). Scoring
    #: is GIL-bound Python, so more threads add no throughput, only interleave requests;
    #: 2 keeps one huge page from blocking every small one behind it.
    max_inflight: int = 2
    #: LightGBM threads for a batch's one prediction call (single pages: one row, one thread).
    batch_threads: int = 2
    #: Helper processes per API worker that score part of every batch (0: none; a batch is
    #: then scored in its request's thread, on one core). Each holds its own scorer (~1 GB resident).
    batch_processes: int = 0
    #: Requests allowed to wait for a scoring slot; more are refused at once with 503.
    max_queue: int = 256
    #: Longest wait for a scoring slot: past it (or when the wait expected from the jobs
    #: ahead and their measured cost is longer) the request gets 503 with Retry-After at
    #: once, instead of waiting out the whole time limit for a 504.
    max_wait_s: float = 5.0
    #: Retry-After seconds sent with 503 (overload) answers.
    retry_after_s: int = 1
    #: Originality index location (path or redis:// URL) or None.
    index: str | None = None
    #: Read a local index wholly into memory at start-up (``open_index(..., preload=True)``):
    #: queries never wait for the disk (p99 5.7 ms at 1M pages, 7 KB of RAM per page).
    index_preload: bool = False
    #: SQLAlchemy URL of the moderation database, checked by /readyz, or None.
    db: str | None = None
    #: Seconds a /readyz dependency check may take before it counts as unreachable.
    ready_timeout_s: float = 2.0
    #: Seconds a connection may take to send a request's whole head (request line and
    #: headers), counted from its first byte or from the connection's start: 408 and
    #: closed beyond it (slowloris). Applies to ``farmscore serve`` and ``queue serve``.
    header_timeout_s: float = 10.0
    #: Seconds an idle keep-alive connection stays open between requests (uvicorn's
    #: ``timeout_keep_alive``).
    keep_alive_s: float = 5.0

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Settings from ``FARMSCORE_*`` variables; keyword overrides win (tests use them)."""
        d = cls()
        values = dict(
            max_body_bytes=_env_int("FARMSCORE_MAX_BODY_BYTES", d.max_body_bytes, 1),
            max_inflight_body_bytes=_env_int("FARMSCORE_MAX_INFLIGHT_BODY_BYTES", 0, 0) or None,
            max_inflight_requests=_env_int("FARMSCORE_MAX_INFLIGHT_REQUESTS", d.max_inflight_requests, 1),
            max_batch=_env_int("FARMSCORE_MAX_BATCH", d.max_batch, 1),
            max_text_chars=_env_int("FARMSCORE_MAX_TEXT_CHARS", d.max_text_chars, 1),
            timeout_s=_env_float("FARMSCORE_TIMEOUT_S", d.timeout_s),
            max_inflight=_env_int("FARMSCORE_MAX_INFLIGHT", d.max_inflight, 1),
            batch_threads=_env_int("FARMSCORE_BATCH_THREADS", d.batch_threads, 1),
            batch_processes=_env_int("FARMSCORE_BATCH_PROCESSES", d.batch_processes, 0),
            max_queue=_env_int("FARMSCORE_MAX_QUEUE", d.max_queue, 0),
            max_wait_s=_env_float("FARMSCORE_MAX_WAIT_S", d.max_wait_s),
            retry_after_s=_env_int("FARMSCORE_RETRY_AFTER_S", d.retry_after_s, 0),
            index=os.environ.get("FARMSCORE_INDEX") or None,
            index_preload=os.environ.get("FARMSCORE_INDEX_PRELOAD", "").lower() in ("1", "true", "yes"),
            db=os.environ.get("FARMSCORE_DB") or None,
            ready_timeout_s=_env_float("FARMSCORE_READY_TIMEOUT_S", d.ready_timeout_s),
            header_timeout_s=_env_float("FARMSCORE_HEADER_TIMEOUT_S", d.header_timeout_s),
            keep_alive_s=_env_float("FARMSCORE_KEEP_ALIVE_S", d.keep_alive_s),
        )
        names = {f.name for f in fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        values.update(overrides)
        out = cls(**values)
        if out.max_inflight_body_bytes is not None and out.max_inflight_body_bytes < out.max_body_bytes:
            raise ValueError(f"$FARMSCORE_MAX_INFLIGHT_BODY_BYTES ({out.max_inflight_body_bytes}) must be "
                             f">= $FARMSCORE_MAX_BODY_BYTES ({out.max_body_bytes}): no body of the "
                             "largest size could ever be admitted")
        return out

    @property
    def body_budget(self) -> int:
        """The in-flight body cap in effect (``max_inflight_body_bytes`` or 4 x the body limit)."""
        return self.max_inflight_body_bytes or 4 * self.max_body_bytes
