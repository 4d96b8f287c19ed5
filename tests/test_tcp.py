"""The API's connections run without Nagle's algorithm, whatever socket uvicorn listens on."""

from __future__ import annotations

import asyncio
import socket

from serving.tcp import PROTOCOL, NoDelayH11Protocol, set_nodelay


class _Transport(asyncio.BaseTransport):
    def __init__(self, sock):
        super().__init__()
        self.sock = sock

    def get_extra_info(self, name, default=None):
        return self.sock if name == "socket" else default


def test_nodelay_is_set_on_a_connection_accepted_from_a_proto_0_socket():
    # the way uvicorn binds its shared socket for --workers > 1: proto 0, which asyncio's
    # own TCP_NODELAY step skips
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        with socket.create_connection(srv.getsockname()) as _client:
            conn, _ = srv.accept()
            with conn:
                assert conn.proto == 0
                assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
                assert set_nodelay(_Transport(conn))
                assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_non_tcp_transports_are_left_alone():
    a, b = socket.socketpair()
    with a, b:
        assert not set_nodelay(_Transport(a))
    assert not set_nodelay(_Transport(None))


def test_serve_uses_the_protocol():
    from uvicorn.importer import import_from_string

    assert import_from_string(PROTOCOL) is NoDelayH11Protocol
