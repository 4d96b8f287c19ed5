"""Request limits: body size as bytes arrive, and a bounded pool of scoring jobs.

Why count bytes in ``receive`` instead of trusting ``Content-Length``: a client may send a
chunked body with no length at all, or lie; reading it whole first would let one request
hold gigabytes of memory. :class:`BodyLimitMiddleware` refuses a declared length over the
limit before reading anything, and otherwise stops the moment the running count passes it.

Why a bounded pool with a bounded queue (:class:`ScoringPool`): scoring is CPU work in
threads; an unbounded number of waiting requests only grows latency until every one of them
times out. Past ``max_queue`` waiting requests the API answers 503 with ``Retry-After`` at
once, which a crawler can back off from. A job that outlives its request's time limit keeps
its slot until it really ends (a Python thread cannot be killed), so the pool never runs
more than ``max_inflight`` jobs even when requests time out; batch jobs check a cancel flag
between pages and stop early.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the body passes the limit."""

    def __init__(self, limit: int, seen: int | None = None, declared: int | None = None):
        self.limit = limit
        self.seen = seen
        self.declared = declared
        if declared is not None:
            msg = f"request body is {declared:,} bytes (Content-Length); the limit is {limit:,}"
        else:
            msg = f"request body passed the limit of {limit:,} bytes ({seen:,} received so far)"
        super().__init__(msg)


def error_body(code: str, reason: str, **extra: Any) -> bytes:
    """The one JSON shape of every refusal: ``{"error": {"code", "reason", ...}}``."""
    return orjson.dumps({"error": {"code": code, "reason": reason, **extra}})


async def send_json(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send a complete JSON response from pure ASGI code."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Pure ASGI middleware: 413 for bodies over ``max_bytes``, chunked or not."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await send_json(send, 400, error_body("header", "Content-Length is not an integer"))
                    return
                if declared > limit:
                    exc = BodyTooLarge(limit, declared=declared)
                    await send_json(send, 413, error_body("too_large", str(exc), limit=limit),
                                    [(b"connection", b"close")])
                    return
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit, seen=seen)
            return message

        async def tracking_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:  # too late for a status; let the server drop the connection
                raise
            await send_json(send, 413, error_body("too_large", str(exc), limit=limit),
                            [(b"connection", b"close")])


class Overloaded(Exception):
    """No scoring slot and the waiting queue is full: answer 503 with Retry-After."""


class TimedOut(Exception):
    """The request's time limit passed (waiting for a slot or scoring): answer 504."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CancelFlag:
    """Set when a job's request has given up; long jobs poll it between pages."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


class ScoringPool:
    """At most ``max_inflight`` scoring jobs in threads, at most ``max_queue`` waiting."""

    def __init__(self, max_inflight: int, max_queue: int, on_change: Callable[[int, int], None] | None = None):
        self.max_inflight = max_inflight
        self.max_queue = max_queue
        self.executor = cf.ThreadPoolExecutor(max_workers=max_inflight, thread_name_prefix="farmscore-score")
        self._sem = asyncio.Semaphore(max_inflight)
        self.running = 0
        self.waiting = 0
        self._on_change = on_change or (lambda running, waiting: None)

    def _changed(self) -> None:
        self._on_change(self.running, self.waiting)

    async def run(self, fn: Callable[[CancelFlag], Any], deadline: float) -> Any:
        """Run ``fn(cancel_flag)`` in a pool thread, by ``deadline`` (``time.monotonic()``).

        Raises :class:`Overloaded` when the queue is full and :class:`TimedOut` when the
        deadline passes; on a timeout the flag is set and the slot is freed only when the
        thread really finishes.
        """
        if self._sem.locked():
            if self.waiting >= self.max_queue:
                raise Overloaded(f"{self.running} scoring jobs running and {self.waiting} waiting "
                                 f"(limits {self.max_inflight} and {self.max_queue})")
        self.waiting += 1
        self._changed()
        try:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimedOut("the time limit passed before scoring started")
            try:
                await asyncio.wait_for(self._sem.acquire(), remaining)
            except (asyncio.TimeoutError, TimeoutError):
                raise TimedOut("timed out waiting for a free scoring slot (server busy)") from None
        finally:
            self.waiting -= 1
        self.running += 1
        self._changed()
        flag = CancelFlag()
        loop = asyncio.get_running_loop()
        try:
            fut = loop.run_in_executor(self.executor, fn, flag)
        except BaseException:
            self._release(None)
            raise
        fut.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), max(0.0, deadline - time.monotonic()))
        except (asyncio.TimeoutError, TimeoutError):
            flag.set()
            fut.add_done_callback(_consume)
            raise TimedOut("scoring did not finish within the time limit") from None
        except asyncio.CancelledError:  # the client went away
            flag.set()
            fut.add_done_callback(_consume)
            raise

    def _release(self, _fut) -> None:
        self.running -= 1
        self._sem.release()
        self._changed()

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _consume(fut: asyncio.Future) -> None:
    """Retrieve an abandoned job's exception so asyncio does not log it as never retrieved."""
    if not fut.cancelled():
        fut.exception()
