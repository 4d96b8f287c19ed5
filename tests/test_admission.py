"""Hardening (issue 19): admission control before any body is buffered, with an overall cap.

The per-request body limit (413) bounds one request, not many: 100 clients each sending a
body just under 32 MB made the process hold 3 GB, slowly, before any handler ran. Now each
process admits at most ``max_inflight_requests`` requests and holds at most
``max_inflight_body_bytes`` of bodies at once: a request whose declared length does not fit
is refused with 503 and Retry-After before a byte of its body is read, and a chunked body
(no length) is counted as it arrives. Health checks are never refused. Real uvicorn over
TCP, raw sockets holding bodies half sent, for the scoring API and the queue (both databases)."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from moderation.testing import _drop_pg_schema, _new_pg_schema, pg_schemas, start_server  # noqa: F401

MB = 1_000_000
PASSWORD = "correct horse 1"


def _serve(app):
    return start_server(app)


@pytest.fixture(params=["api", "queue-sqlite", "queue-postgresql"])
def site(request, tmp_path):
    """(port, path that takes a body, extra headers, health path, its admission counters)
    of a live server whose bodies are limited to 1 MB each and 2 MB in all, and to 4
    requests at once."""
    limits = dict(max_body_bytes=MB, max_inflight_body_bytes=2 * MB, max_inflight_requests=4)
    if request.param == "api":
        from serving.app import create_app
        from serving.settings import Settings

        app = create_app(Settings.from_env(index=None, db=None, timeout_s=120, **limits))
        srv, thread, port = _serve(app)
        yield port, "/v1/score", {}, "/livez", app.state.admission
    else:
        from moderation import create_queue_app

        schema = None
        if request.param == "queue-sqlite":
            url = f"sqlite:///{tmp_path / 'q.db'}"
        else:
            base, prefix = request.getfixturevalue("pg_schemas")
            url, schema = _new_pg_schema(base, prefix)
        app = create_queue_app(url, secret_key="s", **limits)
        app.state.queue.add_moderator("alice", PASSWORD)
        srv, thread, port = _serve(app)
        token = httpx.post(f"http://127.0.0.1:{port}/api/login",
                           json={"name": "alice", "password": PASSWORD}).json()["token"]
        yield port, "/api/items", {"Authorization": f"Bearer {token}"}, "/login", app.state.admission
    srv.should_exit = True
    thread.join(timeout=30)
    if request.param != "api":
        app.state.engine.dispose()
        if schema:
            _drop_pg_schema(base, schema)


def _head(path: str, headers: dict, length: int | None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", "Content-Type: application/json",
             *(f"{k}: {v}" for k, v in headers.items())]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _hold(port: int, path: str, headers: dict, length: int) -> socket.socket:
    """A request that declares ``length`` bytes and sends only the first 10 of them."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(_head(path, headers, length) + b'{"id": "x"')
    return s


def _status(s: socket.socket) -> tuple[int, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        assert chunk, f"closed without an answer after {buf!r}"
        buf += chunk
    return int(buf.split(b" ", 2)[1]), buf


def _until(pred, what: str) -> None:
    deadline = time.monotonic() + 60
    while not pred():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def _body(n: int) -> bytes:
    """A JSON page of ``n`` bytes with a boolean id: refused with 4xx once read."""
    pre, post = b'{"id": true, "text": "', b'"}'
    return pre + b"a" * (n - len(pre) - len(post)) + post


def _wait_admitted(port: int, path: str, headers: dict) -> int:
    """Retry a 0.9 MB request until the server has let go of closed requests (bounded)."""
    deadline = time.monotonic() + 60
    while True:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(_head(path, headers, int(0.9 * MB)) + _body(int(0.9 * MB)))
            status, _ = _status(s)
        if status != 503 or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_bodies_past_the_overall_cap_are_refused_before_they_are_read(site):
    port, path, headers, health, admission = site
    held = [_hold(port, path, headers, int(0.9 * MB)) for _ in range(2)]  # 1.8 of 2 MB
    try:
        _until(lambda: admission.body_bytes == int(1.8 * MB), "both bodies to be admitted")
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(_head(path, headers, int(0.9 * MB)))  # the head only: no body yet
            status, raw = _status(s)  # old code: waited for the body (client timeout)
        assert status == 503, raw
        assert b"retry-after:" in raw.lower() and b"connection: close" in raw.lower()
        # a chunked body is counted as it arrives: 0.3 MB passes what is left
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(_head(path, headers, None))
            body = _body(int(0.3 * MB))
            try:
                for i in range(0, len(body), 50_000):
                    part = body[i:i + 50_000]
                    s.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                s.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            status, raw = _status(s)
        assert status == 503, raw  # old code: 422 (read whole, then refused for its id)
        assert httpx.get(f"http://127.0.0.1:{port}{health}").status_code == 200
    finally:
        for s in held:
            s.close()
    assert 400 <= _wait_admitted(port, path, headers) < 500  # the budget came back: read, then 4xx


def test_requests_past_the_overall_cap_are_refused_and_health_checks_are_not(site):
    port, path, headers, health, admission = site
    held = [_hold(port, path, headers, 1000) for _ in range(4)]
    try:
        _until(lambda: admission.requests == 4, "the four requests to be admitted")
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(_head(path, headers, 20) + b'{"id": true, "t": 1}')
            status, raw = _status(s)
        assert status == 503 and b"retry-after:" in raw.lower(), raw  # old code: 422
        if path == "/v1/score":
            assert httpx.get(f"http://127.0.0.1:{port}{health}").status_code == 200
            assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code in (200, 503)
    finally:
        for s in held:
            s.close()
    assert 400 <= _wait_admitted(port, path, headers) < 500
