"""uvicorn's HTTP/1.1 protocol with Nagle's algorithm off on every connection.

Why: uvicorn writes a response as two ``send`` calls (headers, then body). With Nagle on,
the body waits until the client acknowledges the headers, and clients delay that
acknowledgement by up to 40 ms: a 5 ms scoring request took 48 ms. asyncio turns Nagle off
by itself only for sockets created with ``proto=IPPROTO_TCP``; with ``--workers`` > 1
uvicorn's shared listening socket is created with proto 0, so its connections kept Nagle
on. (One worker listens through asyncio and never had the delay.)
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

#: What ``farmscore serve`` passes as uvicorn's ``http`` (an import string: workers import it).
PROTOCOL = "serving.tcp:NoDelayH11Protocol"


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


class NoDelayH11Protocol(H11Protocol):
    """H11Protocol that sets TCP_NODELAY as each connection is made."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
