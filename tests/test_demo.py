"""`farmscore demo` (the README's first command): seeds scored and queued, API and queue served."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from farmscore.config import REPO_ROOT
from farmscore.seeds import SOURCE_ID, expected, seed_texts

COPYING = {"copy", "spun", "paraphrase", "rewrite"}


def _assert_as_expected(records: dict[str, dict]) -> None:
    """The verdicts seeds/expected.json states: a page made by copying (its ``technique``)
    is a "farm" that names the seeds' source; ``quality_flagged`` says whether its quality
    is past the "suspect" threshold."""
    from scoring.score import build_scorer

    t = build_scorer().scorer.spec["thresholds"]
    for n, want in expected().items():
        if n.startswith("_"):
            continue
        rec = records[n]
        assert set(want["technique"]) & COPYING, n
        assert rec["verdict"] == "farm", (n, rec["originality"], rec["quality"])
        assert rec["source"] and rec["source"]["id"] == SOURCE_ID, n
        assert (rec["quality"] <= t["suspect"]["quality"]) == want["quality_flagged"], (n, rec["quality"])


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
            verdicts = {n: c.post("/v1/score", json={"id": n, "text": t}).json()
                        for n, t in seed_texts().items()}
        # every seed is a copy of one source (copy, spin, paraphrase, rewrite), and the demo
        # indexes that source: all five are farms, named with it, and all five are queued
        assert stats["pending"] == 5
        _assert_as_expected(verdicts)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert "000_a18e79c8e3510776.txt" in out and f"{base}/queue/" in out
    index_dir = out.split("Originality index: ", 1)[1].split(" in ", 1)[1].splitlines()[0]
    assert not Path(index_dir).exists()  # the temporary index went with the server


def test_demo_on_a_busy_port_says_so_in_one_line(tmp_path):
    """Before anything is printed as served: one line, exit 2, the port named."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        p = subprocess.run([sys.executable, "-m", "farmscore", "demo", "--db",
                            f"sqlite:///{tmp_path / 'demo.db'}", "--port", str(port)],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stdout == "" and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and str(port) in p.stderr and "--port" in p.stderr
    assert not (tmp_path / "demo.db").exists()
