"""Request limits: body size as bytes arrive, overall caps on requests and body bytes in
flight (:class:`Admission`), and a bounded pool of scoring jobs.

Why count bytes in ``receive`` instead of trusting ``Content-Length``: a client may send a
chunked body with no length at all, or lie; reading it whole first would let one request
hold gigabytes of memory. :class:`BodyLimitMiddleware` refuses a declared length over the
limit before reading anything, and otherwise stops the moment the running count passes it.

Why a bounded pool with a bounded queue (:class:`ScoringPool`): scoring is CPU work in
threads; an unbounded number of waiting requests only grows latency until every one of them
times out. Past ``max_queue`` waiting requests, or when the wait expected from the jobs
ahead (or the wait itself) passes ``max_wait_s``, the API answers 503 with ``Retry-After``
at once, which a crawler can back off from, instead of a 504 at the end of the time limit. A job that outlives its request's time limit keeps
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


class BodyRefused(Exception):
    """Raised from ``receive`` when a body may not be read on: answered by the body limit."""


class BodyTimeout(BodyRefused):
    """The rest of the body did not come within the time limit (408, connection closed)."""


class OverBudget(BodyRefused):
    """A chunked body passed what is left of the process's in-flight body budget (503)."""


class BodyTooLarge(BodyRefused):
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


class Admission:
    """Per-process caps on requests in flight and on the body bytes they may hold at once.

    Why: the body limit bounds one request, not many; a few hundred clients each sending a
    body just under it made the process hold gigabytes before any handler ran. A request is
    admitted (counted) when its head arrives; its declared ``Content-Length`` is reserved
    from the byte budget before a byte of the body is read, and a chunked body is reserved
    as it arrives. What does not fit is refused with 503 and ``Retry-After``, which a
    client can back off from. ``exempt`` paths (health checks) are never refused. Counters
    live on the event loop (one per process), so no lock is needed."""

    def __init__(self, max_requests: int, max_body_bytes: int, retry_after_s: int = 1,
                 exempt: tuple[str, ...] = ()) -> None:
        self.max_requests = max_requests
        self.max_body_bytes = max_body_bytes
        self.retry_after_s = retry_after_s
        self.exempt = frozenset(exempt)
        self.requests = 0
        self.body_bytes = 0

    def reserve(self, n: int) -> bool:
        if self.body_bytes + n > self.max_body_bytes:
            return False
        self.body_bytes += n
        return True

    def refusal(self, what: str) -> bytes:
        return error_body("overloaded", f"server busy: {what}; retry after {self.retry_after_s} s")


#: The scope key that marks a request as admitted (an app mounted inside another one with
#: its own body limit does not count it twice).
_ADMITTED = "farmscore.admitted"


class BodyLimitMiddleware:
    """Pure ASGI middleware: 413 for bodies over ``max_bytes``, chunked or not, and (with an
    :class:`Admission`) 503 for requests or bodies past the process's overall caps.

    ``limit_for(scope)``, when given, is the limit of one request (e.g. a small one for
    sign-in forms)."""

    def __init__(self, app, max_bytes: int, limit_for: Callable[[dict], int] | None = None,
                 admission: Admission | None = None, body_timeout_s: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limit_for = limit_for
        self.admission = admission
        #: the whole body must arrive within this of the request's start (None: no limit);
        #: a client that sends part of a body and stops otherwise holds its connection and
        #: its admitted bytes forever
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope) if self.limit_for else self.max_bytes
        declared: int | None = None
        chunked = False
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
            elif name == b"transfer-encoding":
                chunked = True
        adm = None if scope.get(_ADMITTED) else self.admission
        entered = reserved = 0
        if adm is not None:
            close = [(b"connection", b"close")] if declared or chunked else []  # never read it
            retry = [(b"retry-after", str(adm.retry_after_s).encode())]
            if scope.get("path", "") not in adm.exempt:
                if adm.requests >= adm.max_requests:
                    await send_json(send, 503, adm.refusal(f"{adm.requests} requests in flight "
                                                           f"(limit {adm.max_requests})"), retry + close)
                    return
                adm.requests += 1
                entered = 1
            if declared and not adm.reserve(declared):
                adm.requests -= entered
                await send_json(send, 503, adm.refusal(
                    f"{adm.body_bytes:,} bytes of request bodies in flight; {declared:,} more do not "
                    f"fit the limit of {adm.max_body_bytes:,}"), retry + close)
                return
            reserved = declared or 0
            scope[_ADMITTED] = True
        seen = 0
        started = False
        body_done = False
        # only a request with a body has one to wait for (a GET's receive() is Starlette
        # listening for a disconnect while it streams a response)
        has_body = bool(declared) or chunked
        deadline = time.monotonic() + self.body_timeout_s if self.body_timeout_s and has_body else None

        async def limited_receive():
            nonlocal seen, reserved, body_done
            if deadline is None or body_done:  # after the body: waiting for a disconnect
                message = await receive()
            else:
                try:
                    # a floor so a message already buffered is still taken after the deadline
                    message = await asyncio.wait_for(receive(), max(0.05, deadline - time.monotonic()))
                except (asyncio.TimeoutError, TimeoutError):
                    raise BodyTimeout(f"the request body did not arrive within {self.body_timeout_s:g} s "
                                      f"({seen:,} bytes came)") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            if message["type"] == "http.request":
                n = len(message.get("body", b""))
                seen += n
                if seen > limit:
                    raise BodyTooLarge(limit, seen=seen)
                if adm is not None and seen > reserved:  # chunked (or longer than declared)
                    if not adm.reserve(seen - reserved):
                        raise OverBudget(f"{adm.body_bytes:,} bytes of request bodies in flight; "
                                         f"this one's {seen:,} do not fit the limit of "
                                         f"{adm.max_body_bytes:,}")
                    reserved = seen
            return message

        async def tracking_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - only BodyRefused is answered here
            # a BaseHTTPMiddleware inside (the queue's headers) wraps it in an ExceptionGroup
            refused = _find(exc, BodyRefused)
            if refused is None or started:  # too late for a status; the server drops it
                raise
            if isinstance(refused, BodyTimeout):
                await send_json(send, 408, error_body("timeout", str(refused)), [(b"connection", b"close")])
            elif isinstance(refused, OverBudget):
                await send_json(send, 503, adm.refusal(str(refused)),
                                [(b"retry-after", str(adm.retry_after_s).encode()),
                                 (b"connection", b"close")])
            else:
                await send_json(send, 413, error_body("too_large", str(refused), limit=limit),
                                [(b"connection", b"close")])
        finally:
            if adm is not None:
                adm.requests -= entered
                adm.body_bytes -= reserved


def _find(exc: BaseException, kind: type) -> BaseException | None:
    """``exc`` itself or the first ``kind`` inside (nested) exception groups."""
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            found = _find(sub, kind)
            if found is not None:
                return found
    return None


class ParamGuardMiddleware:
    """Pure ASGI middleware: 400 for a path or query string no handler should see.

    Why here, once: a NUL (``%00``) cannot be stored or even compared by PostgreSQL (its
    driver raises, the handler answers 500), and a query string that is not UTF-8 decodes to
    replacement characters no record holds. Refusing them before routing gives every route
    the same clear 400."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            reason = _bad_target(scope)
            if reason:
                await send_json(send, 400, error_body("parameter", reason))
                return
        await self.app(scope, receive, send)


def _bad_target(scope) -> str | None:
    from urllib.parse import unquote_to_bytes

    path = scope.get("path", "")
    if "\x00" in path:
        return "the path holds a NUL character"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "the path is not valid UTF-8"
    qs = scope.get("query_string", b"")
    if qs:
        raw = unquote_to_bytes(qs.replace(b"+", b" "))
        if b"\x00" in raw:
            return "a query parameter holds a NUL character (%00)"
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"the query string is not valid UTF-8 (byte {exc.start})"
    return None


class ErrorMiddleware:
    """Pure ASGI middleware, innermost of the server's view: an unhandled exception becomes a
    complete JSON 500 here, and is not re-raised.

    Why: Starlette's own error handler sends its 500 and then re-raises, and uvicorn, seeing
    an exception after the response started, drops the connection without a word: a client
    that reuses the keep-alive connection gets a reset on its next request. Here the answer
    is complete and the connection stays usable (``Connection: close`` only when the body
    was not read to its end, so the next request cannot be mistaken for the rest of it).
    An exception after the response started can only end the connection (re-raised)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        body_done = False

        async def tracking_receive():
            nonlocal body_done
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_done = True
            elif message["type"] == "http.disconnect":
                body_done = True
            return message

        async def tracking_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, tracking_receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - every failure gets an answer
            if started or _find(exc, BodyRefused) is not None:  # 413/503 are the body limit's
                raise
            import logging

            logging.getLogger("farmscore.serving").exception("farmscore: unhandled error")
            has_body = any(k == b"content-length" and v.strip() not in (b"", b"0")
                           or k == b"transfer-encoding" for k, v in scope.get("headers", ()))
            headers = [] if body_done or not has_body else [(b"connection", b"close")]
            await send_json(send, 500, error_body("internal", f"internal error ({type(exc).__name__})"),
                            headers)


class Overloaded(Exception):
    """The job cannot start soon (the waiting queue is full, the expected wait is too long,
    or no slot came within the longest wait): answer 503 with Retry-After."""

    def __init__(self, reason: str, retry_after: float = 0.0):
        super().__init__(reason)
        self.retry_after = retry_after


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
    """At most ``max_inflight`` scoring jobs in threads, at most ``max_queue`` waiting, none
    waiting longer than ``max_wait_s``.

    Why refuse early: a request that would wait behind the time limit's worth of work only
    ends in a 504 after tying up a connection for the whole limit (30 s). The pool keeps a
    moving average of how long its jobs take; a request arriving when every slot is busy
    and the expected wait (jobs ahead x average cost / slots) is past ``max_wait_s`` is
    refused at once, and one that still has no slot after ``max_wait_s`` gives up, both
    with 503 and a Retry-After of about the expected wait."""

    def __init__(self, max_inflight: int, max_queue: int, on_change: Callable[[int, int], None] | None = None,
                 max_wait_s: float = float("inf")):
        self.max_inflight = max_inflight
        self.max_queue = max_queue
        self.max_wait_s = max_wait_s
        self.executor = cf.ThreadPoolExecutor(max_workers=max_inflight, thread_name_prefix="farmscore-score")
        self._sem = asyncio.Semaphore(max_inflight)
        self.running = 0
        self.waiting = 0
        self.avg_job_s: float | None = None  # exponential moving average of finished jobs
        self._on_change = on_change or (lambda running, waiting: None)

    def _changed(self) -> None:
        self._on_change(self.running, self.waiting)

    def expected_wait(self) -> float:
        """Seconds a job arriving now should wait for a slot (0 when one is free or no job
        has finished yet to measure)."""
        if not self._sem.locked() or self.avg_job_s is None:
            return 0.0
        return (self.waiting + 1) * self.avg_job_s / self.max_inflight

    async def run(self, fn: Callable[[CancelFlag], Any], deadline: float) -> Any:
        """Run ``fn(cancel_flag)`` in a pool thread, by ``deadline`` (``time.monotonic()``).

        Raises :class:`Overloaded` when it cannot start soon (queue full, expected wait or
        actual wait past ``max_wait_s``, or the deadline before a slot) and
        :class:`TimedOut` when scoring runs past the deadline; on a timeout the flag is set
        and the slot is freed only when the thread really finishes.
        """
        if self._sem.locked():
            if self.waiting >= self.max_queue:
                raise Overloaded(f"{self.running} scoring jobs running and {self.waiting} waiting "
                                 f"(limits {self.max_inflight} and {self.max_queue})", self.expected_wait())
            expected = self.expected_wait()
            if expected > min(self.max_wait_s, deadline - time.monotonic()):
                raise Overloaded(f"expected wait for a scoring slot {expected:.1f} s ({self.waiting} "
                                 f"waiting, {self.avg_job_s:.2f} s per job) is past the limit of "
                                 f"{self.max_wait_s:g} s", expected)
        self.waiting += 1
        self._changed()
        try:
            limit = min(self.max_wait_s, deadline - time.monotonic())
            if limit <= 0:
                raise Overloaded("no time left to wait for a scoring slot", self.expected_wait())
            try:
                await asyncio.wait_for(self._sem.acquire(), limit)
            except (asyncio.TimeoutError, TimeoutError):
                raise Overloaded(f"no scoring slot came free within {limit:.2g} s (server busy)",
                                 self.expected_wait()) from None
        finally:
            self.waiting -= 1
        self.running += 1
        self._changed()
        flag = CancelFlag()
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            fut = loop.run_in_executor(self.executor, fn, flag)
        except BaseException:
            self._release(None)
            raise
        fut.add_done_callback(self._release)
        fut.add_done_callback(lambda _f: self._measure(time.monotonic() - started))
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

    def _measure(self, seconds: float) -> None:
        self.avg_job_s = seconds if self.avg_job_s is None else 0.8 * self.avg_job_s + 0.2 * seconds

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
