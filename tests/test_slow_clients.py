"""Hardening (issue 19): a connection that never completes its request head, or sits idle,
is cut off by the server, for the scoring API and the queue alike.

uvicorn's own keep-alive timer only runs *between* requests and is cancelled by the first
byte of the next one, and nothing at all runs before the first request: a client that sends
half a header (or nothing) held its connection, and its memory, forever (slowloris). Real
uvicorn over TCP with the options ``farmscore serve`` and ``farmscore queue serve`` use,
raw sockets; the header time limit is set short so the test is quick, and what is asserted
is that the server cuts the connection (a client-side limit far longer only keeps a failing
test from hanging), never how fast."""

from __future__ import annotations

import select
import socket
import time

import pytest
import uvicorn

from moderation.testing import start_server

HEADER_TIMEOUT_S = 0.5
CLIENT_PATIENCE_S = 30.0  # 60 times the server's limit: only a server that never cuts off fails


@pytest.fixture(params=["api", "queue"])
def server(request, tmp_path, monkeypatch):
    from serving.tcp import uvicorn_options

    monkeypatch.setenv("FARMSCORE_HEADER_TIMEOUT_S", str(HEADER_TIMEOUT_S))
    monkeypatch.setenv("FARMSCORE_KEEP_ALIVE_S", "1")
    monkeypatch.setenv("FARMSCORE_TIMEOUT_S", "1")  # also the time limit on a request body
    if request.param == "api":
        from serving.app import create_app
        from serving.settings import Settings

        app, ok = create_app(Settings.from_env(index=None, db=None)), "/livez"
    else:
        from moderation import create_queue_app

        app, ok = create_queue_app(f"sqlite:///{tmp_path / 'q.db'}", secret_key="s"), "/login"
    srv, thread, port = start_server(app, startup_timeout=60, lifespan="off",
                                     **uvicorn_options())
    yield port, ok
    srv.should_exit = True
    thread.join(timeout=30)


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; TimeoutError if it never does."""
    sock.settimeout(CLIENT_PATIENCE_S)
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return out
        if not chunk:
            return out
        out += chunk


def _one_response(sock: socket.socket) -> bytes:
    """One whole response (head and Content-Length body) from a keep-alive connection."""
    sock.settimeout(CLIENT_PATIENCE_S)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {buf!r}"
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    need = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:"))
    while len(body) < need:
        chunk = sock.recv(65536)
        assert chunk, "closed inside the body"
        body += chunk
    return head + b"\r\n\r\n" + body


def test_half_a_header_is_cut_off_with_408(server):
    port, _ok = server
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never the rest
        answer = _until_closed(s)  # old code: TimeoutError (held open forever)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in answer.lower()


def test_a_connection_that_sends_nothing_is_closed(server):
    port, _ok = server
    with socket.create_connection(("127.0.0.1", port)) as s:
        assert _until_closed(s) == b""  # old code: TimeoutError


def test_a_header_sent_a_byte_at_a_time_is_cut_off(server):
    """Slowloris: each byte comes well within the limit, the head never ends. The limit is
    on the whole head, so dribbling does not extend it."""
    port, _ok = server
    head = b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    with socket.create_connection(("127.0.0.1", port)) as s:
        sent = 0
        deadline = time.monotonic() + CLIENT_PATIENCE_S
        while time.monotonic() < deadline and sent < len(head):
            readable, _, _ = select.select([s], [], [], HEADER_TIMEOUT_S / 5)
            if readable:
                break
            try:
                s.sendall(head[sent:sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
        answer = _until_closed(s)
    assert sent < len(head), "the server never cut the dribbling client off"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")


def test_keep_alive_then_half_a_header_is_cut_off(server):
    """A first request is answered, the next one stalls mid-header: uvicorn's keep-alive
    timer was cancelled by its first byte and nothing else ran."""
    port, ok = server
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"GET {ok} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert _one_response(s).startswith(b"HTTP/1.1 200 ")
        s.sendall(b"GET / HTTP/1.1\r\nHo")
        answer = _until_closed(s)  # old code: TimeoutError
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_an_idle_keep_alive_connection_is_closed(server):
    port, ok = server
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"GET {ok} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert _one_response(s).startswith(b"HTTP/1.1 200 ")
        assert _until_closed(s) == b""


def test_a_body_that_stops_coming_is_cut_off_with_408(server):
    """A whole head, then part of the declared body, then silence, on each body-taking route
    of the server (the API's /v1/score; the queue's /login and /api/login). Old code: the
    queue waited for the rest forever (before sign-in: any client could hold its
    connections)."""
    port, ok = server
    paths = ["/v1/score"] if ok == "/livez" else ["/login", "/api/login"]
    for path in paths:
        ctype = "application/x-www-form-urlencoded" if path == "/login" else "application/json"
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                      f"Content-Length: 1000\r\n\r\n".encode() + b'{"name": "a')
            answer = _until_closed(s)  # old code (queue): TimeoutError
        assert answer.startswith(b"HTTP/1.1 408 "), (path, answer[:300])
        assert b"connection: close" in answer.lower(), path


def test_a_whole_request_still_gets_its_answer(server):
    port, ok = server
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"GET {ok} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert _until_closed(s).startswith(b"HTTP/1.1 200 ")


def test_both_serve_commands_use_the_hardened_options(monkeypatch):
    """``farmscore serve`` and ``farmscore queue serve`` hand uvicorn the same options."""
    import argparse

    import farmscore.commands.queue as queue_cmd
    import farmscore.commands.serve as serve_cmd
    from serving.tcp import uvicorn_options

    seen: list[dict] = []

    class _Server:  # queue serve builds a Config and runs a Server on its bound socket
        def __init__(self, config):
            pass

        def run(self, sockets=None):
            for sock in sockets or ():
                sock.close()

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.append(kw))
    monkeypatch.setattr(uvicorn, "Config", lambda app, **kw: seen.append(kw))
    monkeypatch.setattr(uvicorn, "Server", _Server)
    serve_cmd.run_serve(argparse.Namespace(workers=1, batch_processes=None, host="127.0.0.1",
                                           port=0, log_level="critical", no_access_log=True))
    monkeypatch.setattr("moderation.app.create_queue_app", lambda *a, **k: object())
    queue_cmd.run_serve(argparse.Namespace(db="sqlite://", risk=None, lease_seconds=600, index=None,
                                           host="127.0.0.1", port=0, root_path=""))
    want = uvicorn_options()
    for kw in seen:
        assert {k: kw.get(k) for k in want} == want
    assert len(seen) == 2
