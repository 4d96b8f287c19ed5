"""Issue 19 item 10: after a 500 the server answers properly and the keep-alive connection
stays usable (it used to be dropped without a word, so the client's next request on it got
a reset). Real uvicorn over TCP, raw sockets, for the scoring API and the queue."""

from __future__ import annotations

import socket

import pytest

from moderation.testing import start_server


def _serve(app):
    return start_server(app, lifespan="auto")


def _response(sock: socket.socket) -> tuple[int, dict, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {buf[:200]!r}")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    need = int(headers.get("content-length", 0))
    while len(body) < need:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed inside the body")
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _check_keep_alive(port: int, boom: str, ok: str) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        for _ in range(3):
            s.sendall(f"GET {boom} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, headers, body = _response(s)
            assert status == 500 and b"internal" in body
            assert headers.get("connection", "").lower() != "close"
            s.sendall(f"GET {ok} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, _h, _b = _response(s)  # old code: ConnectionError (reset / closed)
            assert status in (200, 303)


def _boom():
    raise RuntimeError("a bug in a handler")


@pytest.mark.parametrize("which", ["api", "queue"])
def test_a_500_keeps_the_connection_usable(tmp_path, which):
    if which == "api":
        from serving.app import create_app
        from serving.settings import Settings

        app = create_app(Settings.from_env(index=None, db=None))
        ok = "/livez"
    else:
        from moderation import create_queue_app

        app = create_queue_app(f"sqlite:///{tmp_path / 'q.db'}", secret_key="s")
        ok = "/login"
    app.add_api_route("/boom", _boom, methods=["GET"])
    server, thread, port = _serve(app)
    try:
        _check_keep_alive(port, "/boom", ok)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_a_boolean_id_is_refused():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from serving.app import create_app
    from serving.settings import Settings

    with TestClient(create_app(Settings.from_env(index=None, db=None))) as c:
        for ident in (True, False):
            r = c.post("/v1/score", json={"id": ident, "text": "A short page about the harbour."})
            assert r.status_code == 422 and r.json()["error"]["field"] == "id"
        r = c.post("/v1/score", json={"pages": [{"id": True, "text": "x y z"}, {"id": 2, "text": "a b c"}]})
        assert [x.get("error", {}).get("field") for x in r.json()["results"]] == ["pages[0].id", None]
        # NaN (and Infinity) are not JSON: the whole body is refused with a reason
        for raw in (b'{"id": NaN, "text": "A short page."}', b'{"id": Infinity, "text": "A page."}',
                    b'{"pages": [{"id": NaN, "text": "A short page."}]}'):
            r = c.post("/v1/score", content=raw, headers={"Content-Type": "application/json"})
            assert r.status_code == 400 and r.json()["error"]["code"] == "json", r.text
