"""uvicorn's HTTP/1.1 protocol, hardened: Nagle's algorithm off and a time limit on every
request head. Both servers (``farmscore serve`` and ``farmscore queue serve``) run it, with
the options of :func:`uvicorn_options`.

Why TCP_NODELAY: uvicorn writes a response as two ``send`` calls (headers, then body). With
Nagle on, the body waits until the client acknowledges the headers, and clients delay that
acknowledgement by up to 40 ms: a 5 ms scoring request took 48 ms. asyncio turns Nagle off
by itself only for sockets created with ``proto=IPPROTO_TCP``; with ``--workers`` > 1
uvicorn's shared listening socket is created with proto 0, so its connections kept Nagle
on. (One worker listens through asyncio and never had the delay.)

Why a header time limit: uvicorn's only timer is the keep-alive one, armed after a response
and cancelled by the first byte of the next request; nothing runs before the first request.
So a client that connects and sends nothing, or half a header (or a header a byte every few
seconds), held its connection and buffers forever, and a few thousand such sockets exhaust
the process (slowloris). Here every request head must be complete within
``FARMSCORE_HEADER_TIMEOUT_S`` of the connection opening or of its first byte, however the
bytes trickle in: then the server answers 408 (if any of the head came) and closes.
"""

from __future__ import annotations

import asyncio
import socket
from functools import lru_cache

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: What both serve commands pass as uvicorn's ``http`` (an import string: workers import it).
PROTOCOL = "serving.tcp:HardenedH11Protocol"
_TIMEOUT_BODY = b"the request head did not arrive in time\n"
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                     b"connection: close\r\ncontent-length: " + str(len(_TIMEOUT_BODY)).encode()
                     + b"\r\n\r\n" + _TIMEOUT_BODY)


@lru_cache(maxsize=1)
def _limits() -> tuple[float, float]:
    """(header time limit, keep-alive) from ``FARMSCORE_*`` variables, read once a process."""
    from serving.settings import Settings

    s = Settings.from_env()
    return s.header_timeout_s, s.keep_alive_s


def uvicorn_options() -> dict:
    """The uvicorn options both serve commands use: this module's protocol and the idle
    keep-alive limit (uvicorn takes whole seconds; at least 1)."""
    _limits.cache_clear()  # a command (or a test) may have just set the variables
    return {"http": PROTOCOL, "timeout_keep_alive": max(1, round(_limits()[1]))}


def set_nodelay(transport: asyncio.BaseTransport) -> bool:
    """Turn Nagle's algorithm off on a TCP transport's socket; False if it has none."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # a socket already closed by the peer: nothing to speed up
        return False
    return True


class HardenedH11Protocol(H11Protocol):
    """H11Protocol with TCP_NODELAY and a time limit on each request head."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = _limits()[0]
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
        self._arm_head_timer()  # the first request's head: counted from the connection

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # cancels uvicorn's keep-alive timer
        if self.conn.their_state is h11.IDLE:  # a head begun and not finished
            self._arm_head_timer()  # counted from its first byte: more bytes do not extend it
        else:
            self._cancel_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a response is still being written: its own timers apply
        if self.conn.trailing_data[0]:  # part of a head came: say why before closing
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


#: The former name (Nagle off only), kept for imports elsewhere.
NoDelayH11Protocol = HardenedH11Protocol
