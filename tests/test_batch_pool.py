"""Batch helper processes (serving/batch_pool.py): real spawned processes, really killed.

A batch shared with helpers must come back exactly as one thread scores it, in page order;
a helper that dies must cost no request anything but time; and helpers must not outlive
a server that is killed without a chance to shut them down.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from farmscore.config import REPO_ROOT, seeds_dir
from scoring.score import build_scorer
from serving.batch import Item, score_items
from serving.batch_pool import BatchHelpers, chunks

SEEDS = [p.read_text(encoding="utf-8") for p in sorted(seeds_dir().glob("0*.txt"))]


def _items() -> list[Item]:
    texts = SEEDS + [s[: len(s) // 2] for s in SEEDS] + ["", "\x00\x01 binary \x02" * 20]
    return [Item(f"pages[{i}].text", i, "text", t) for i, t in enumerate(texts)]


def _alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped by its new parent, is not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_dead(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("n, parts", [(10, 3), (3, 3), (2, 5), (1, 2), (7, 1)])
def test_chunks_cover_every_page_once_in_order(n, parts):
    spans = chunks(n, parts)
    assert len(spans) == min(n, parts)
    assert [i for a, b in spans for i in range(a, b)] == list(range(n))
    sizes = [b - a for a, b in spans]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


@pytest.fixture(scope="module")
def scorer():
    return build_scorer(index=None)


def test_helpers_score_what_one_thread_scores_and_survive_a_killed_helper(scorer):
    items = _items()
    want = score_items(scorer, items, explain=True, include_text=False)
    assert sum("error" in r for r in want) == 2  # the empty and the binary page
    helpers = BatchHelpers(1)
    try:
        helpers.start()
        (pid,) = helpers.pids
        assert pid != os.getpid() and _alive(pid)
        assert helpers.score(scorer, items, True, False) == want
        os.kill(pid, signal.SIGKILL)
        assert _wait_dead(pid, 10)
        # the dead helper's chunk is scored here instead: same records, nothing lost
        assert helpers.score(scorer, items, True, False) == want
        # and new helpers took its place
        assert helpers.score(scorer, items, True, False) == want
    finally:
        helpers.shutdown()
    assert _wait_dead(pid, 10)


def _children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            out += [int(c) for c in fh.read().split()]
    return out


def test_helpers_exit_when_the_server_is_killed(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARMSCORE_")}
    proc = subprocess.Popen([sys.executable, "-m", "farmscore", "serve", "--port", str(port),
                             "--batch-processes", "1", "--no-access-log", "--log-level", "warning"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    helpers: list[int] = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, "farmscore serve exited"
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready in 120 s"
            time.sleep(0.2)
        r = httpx.post(base + "/v1/score", json={"pages": [{"id": i, "text": t} for i, t in enumerate(SEEDS)]},
                       timeout=60)
        assert r.status_code == 200 and r.json()["scored"] == len(SEEDS)
        helpers = [c for c in _children(proc.pid) if _alive(c)]
        assert helpers, "no helper process under the server"
        proc.kill()  # SIGKILL: no lifespan shutdown, no pool shutdown
        proc.wait()
        for pid in helpers:
            assert _wait_dead(pid, 15), f"helper {pid} outlived the killed server"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in helpers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_serve_refuses_a_negative_number_of_helpers():
    r = subprocess.run([sys.executable, "-m", "farmscore", "serve", "--batch-processes", "-1"],
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    # one line on stderr, like every CLI error (issue 18)
    assert r.returncode == 2 and r.stderr.strip() == "farmscore serve: --batch-processes must be >= 0"
