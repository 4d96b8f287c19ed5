"""Issue 19 item 5: one bad JSON Lines line never loses a run.

``score --jsonl``, ``queue import`` (SQLite and PostgreSQL) and ``index add`` (SQLite file
and Redis) are run as real processes over files holding the hostile lines the issue found:
NaN and lone-surrogate ids, deep nesting, invalid UTF-8, NUL in the text and an over-long
verdict for PostgreSQL. Every bad line gets its error and every good line its result."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid

import pytest

from farmscore.config import REPO_ROOT
from moderation.testing import db_url, pg_schemas, record  # noqa: F401 - fixtures

GOOD = ("The committee met on Tuesday to discuss the harbour plan. Members agreed that the "
        "new pier would be finished by the spring, and the mayor thanked the builders. ") * 4
DEEP = b'{"id": "deep", "text": ' + b"[" * 5000 + b"]" * 5000 + b"}"
HOSTILE = [
    b'{"id": NaN, "text": "x"}',
    b'{"id": "\\ud800", "text": "lone surrogate id"}',
    b'{"id": "s", "text": "lone \\udfff surrogate text"}',
    DEEP,
    b'{"id": "latin1", "text": "caf\xe9"}',
    b'{"id": true, "text": "a boolean is not an id"}',
    b'{"id": 1e400, "text": "infinite id"}',
]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "farmscore", *args], input=stdin,
                          capture_output=True, cwd=REPO_ROOT, timeout=600)


def _file(tmp_path, lines: list[bytes]) -> str:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return str(path)


def test_score_jsonl_gives_every_bad_line_its_error_record(tmp_path):
    good = lambda i: json.dumps({"id": f"g{i}", "text": GOOD}).encode()  # noqa: E731
    lines = [good(0), *HOSTILE, good(1)]
    out = tmp_path / "out.jsonl"
    p = run("score", "--jsonl", _file(tmp_path, lines), "-o", str(out))
    assert p.returncode == 1, p.stderr.decode()[-2000:]
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(recs) == len(lines)
    assert [r["id"] for r in (recs[0], recs[-1])] == ["g0", "g1"]
    assert "verdict" in recs[0] and "verdict" in recs[-1]
    errs = [r["error"]["code"] for r in recs[1:-1]]
    assert errs == ["json", "json", "json", "json", "encoding", "field", "json"]
    assert all(r["id"] is None for r in recs[1:-1] if r["error"]["code"] != "field")


def test_queue_import_reports_bad_lines_and_goes_on(tmp_path, db_url):  # noqa: F811
    scored = lambda pid, **kw: json.dumps({**record(pid), **kw}).encode()  # noqa: E731
    lines = [scored("good1"), *HOSTILE,
             scored("nul", text="a page with a NUL \u0000 in it " * 5),
             scored("verdict", verdict="v" * 100),
             scored("source", source={"id": {"x": 1}}),
             scored("good2")]
    p = run("queue", "import", "--jsonl", _file(tmp_path, lines), "--db", db_url, "--force")
    err = p.stderr.decode()
    assert p.returncode == 1, err[-2000:]
    assert "Traceback" not in err
    assert f"{len(lines)} read, 2 queued" in err and f"{len(lines) - 2} refused" in err
    for n in range(2, len(lines)):
        assert f"line {n}:" in err
    from moderation.db import make_engine
    from moderation.service import ModerationQueue

    eng = make_engine(db_url)
    try:
        ids = {r["page_id"] for r in ModerationQueue(eng).list_items(limit=50)}
    finally:
        eng.dispose()
    assert ids == {"good1", "good2"}


def _pages(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    words = ("harbour council river budget school minister election storm bridge market "
             "court hospital railway festival museum airport factory village island").split()
    return [json.dumps({"id": f"p{i}", "text": " ".join(rng.choice(words) for _ in range(120))
                        + f" item {i} {rng.random()}"}).encode() for i in range(n)]


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_index_add_skips_a_non_utf8_line_and_keeps_every_batch(tmp_path, backend):
    pages = _pages(1200, seed=3)
    lines = pages[:600] + [b'{"id": "bad", "text": "caf\xe9"}', DEEP,
                           b'{"id": "s", "text": "\\ud800"}'] + pages[600:]
    if backend == "local":
        loc = str(tmp_path / "idx")
    else:
        loc = f"redis://127.0.0.1:6379/0?prefix=farmscore-test:{uuid.uuid4().hex}"
    try:
        p = run("index", "add", "--jsonl", _file(tmp_path, lines), "--index", loc, "--batch", "500")
        err = p.stderr.decode()
        assert p.returncode == 1, err[-2000:]
        assert "added 1,200" in err and "errors 3" in err, err[-1000:]
        assert "line 601:" in err and "line 602:" in err and "line 603:" in err
        from originality import open_index

        with open_index(loc, create=False) as idx:
            assert len(idx) == 1200
    finally:
        if backend == "redis":
            from originality.store import RedisStore

            RedisStore(loc).drop()
