"""`farmscore demo` (the README's first command): seeds scored and queued, API and queue served."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from farmscore.config import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_serves_api_and_queue_with_seeds_queued(tmp_path):
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    proc = subprocess.Popen([sys.executable, "-m", "farmscore", "demo", "--db", db, "--port", str(port)],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise AssertionError("demo server did not start")
        assert httpx.get(f"{base}/readyz").json()["ready"] is True
        with httpx.Client(base_url=base) as c:
            token = c.post("/queue/api/login", json={"name": "demo", "password": "demo-moderator"}).json()["token"]
            stats = c.get("/queue/api/stats", headers={"Authorization": f"Bearer {token}"}).json()
        assert stats["pending"] == 4  # seeds 000-003 are farms; 004 stays out of the queue
        assert c  # noqa
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert "000_a18e79c8e3510776.txt" in out and f"{base}/queue/" in out
