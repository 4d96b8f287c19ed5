"""A bounded fuzz run against the scoring API and the moderation queue (issue 19).

    python bench/fuzz.py                                   # 20,000 API + 5,000 queue requests per database
    python bench/fuzz.py --api-requests 2000 --queue-requests 500   # a quick run
    python bench/fuzz.py --skip-pg                         # SQLite only (no PostgreSQL here)

Starts ``farmscore serve`` (one worker) and ``farmscore queue serve`` on a SQLite file and on
a fresh PostgreSQL schema (``$FARMSCORE_TEST_PG``, default the local ``test`` database), all on
127.0.0.1, and sends hostile requests from a fixed seed: pages of long distinct words (the
hyphenation-cache attack of item 1), deep JSON, lone surrogates, NUL, NaN, invalid UTF-8,
binary bodies, wrong content types, over-long and huge declared bodies, ids and offsets past
2^63, poisoned scored records, wrong logins, garbage decisions, unknown paths and methods.

It reports, per server: requests sent, answers by status class, **5xx answers** (the target
is 0), connection errors, and the server's resident memory (its whole process tree) sampled
over the run: after the warm-up (the first 10 % of requests) and the largest and last value
after it. "Flat" means the largest sample after warm-up is within 10 % of the warm-up one.
Timings are not the point (the machine is shared); counts and memory are.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "fuzz-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB."""
    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
        return sum(q.memory_info().rss for q in procs if q.is_running()) / 2**20
    except psutil.Error:
        return float("nan")


# ---- hostile inputs ------------------------------------------------------------------------
def long_words(rng: random.Random, n: int, lo: int = 18, hi: int = 60) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(lo, hi))) for _ in range(n))


def hostile_string(rng: random.Random) -> str:
    return rng.choice(["", " ", "\x00", "a\x00b", "\ud800", "x" * rng.randint(1, 5000), "NaN",
                       "<script>alert(1)</script>", "'; drop table items; --", "\u202e\u200b",
                       "\U00013430\u0890", "🙂" * 50, str(2**64), "%00", "../../etc/passwd"])


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def api_request(rng: random.Random, seed_text: str) -> dict:
    """One hostile request for the scoring API: method, path, headers, body bytes."""
    j = {"content-type": "application/json"}
    k = rng.randrange(20)
    if k == 0:  # the item-1 attack: many long distinct words
        return {"m": "POST", "p": "/v1/score", "h": j,
                "b": json.dumps({"id": "w", "text": long_words(rng, rng.randint(200, 600))}).encode()}
    if k == 1:
        return {"m": "POST", "p": "/v1/score", "h": j, "b": deep(rng.choice([100, 1025, 5000, 100_000]))}
    if k == 2:  # lone surrogates, NaN, NUL, huge ints as ids and texts
        ident = rng.choice(['"\\ud800"', "NaN", "Infinity", "1e400", str(2**70), "true", "null",
                            '{"a": 1}', '"\\u0000"', "[]"])
        text = rng.choice(['"\\udfff lone"', '"a\\u0000b ok text here"', "12", '"' + "b" * 50 + '"'])
        return {"m": "POST", "p": "/v1/score", "h": j,
                "b": f'{{"id": {ident}, "text": {text}}}'.encode()}
    if k == 3:
        return {"m": "POST", "p": "/v1/score", "h": j,
                "b": bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000)))}
    if k == 4:
        return {"m": "POST", "p": "/v1/score", "h": j, "b": b'{"id": "x", "text": "caf\xe9 \xff\xfe"}'}
    if k == 5:
        return {"m": "POST", "p": "/v1/score", "h": rng.choice([{}, {"content-type": "text/plain"},
                                                               {"content-type": "application/json; charset=latin-1"},
                                                               {"content-type": "\x7f"}]),
                "b": json.dumps({"id": 1, "text": seed_text[:500]}).encode()}
    if k == 6:  # batches with bad pages among good ones
        pages = [rng.choice([{"id": i, "text": seed_text[:rng.randint(50, 3000)]}, {"id": i},
                             {"id": i, "text": 5}, {"text": "x"}, [], "x", {"id": i, "html": "<p>" * 500},
                             {"id": i, "text": "\u200b" * 2000}, {"id": i, "text": long_words(rng, 80)}])
                 for i in range(rng.randint(0, 8))]
        return {"m": "POST", "p": "/v1/score", "h": j, "b": json.dumps({"pages": pages}).encode()}
    if k == 7:
        return {"m": "POST", "p": "/v1/score", "h": j,
                "b": json.dumps({"pages": [{"id": i, "text": "x"} for i in range(rng.choice([501, 2000]))]}).encode()}
    if k == 8:  # over the text limit and over the body limit
        return {"m": "POST", "p": "/v1/score", "h": j,
                "b": json.dumps({"id": "big", "text": "a " * rng.choice([600_000, 2_000_000])}).encode()}
    if k == 9:
        q = rng.choice(["explain=maybe", "explain=true&include_text=%00", "include_text=" + "x" * 9000,
                        "explain=1&explain=0", "%ff=%fe"])
        return {"m": "POST", "p": "/v1/score?" + q, "h": j,
                "b": json.dumps({"id": "q", "text": seed_text[:800]}).encode()}
    if k == 10:
        return {"m": rng.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]),
                "p": rng.choice(["/v1/score", "/v1/score/../../x", "/%00", "/readyz?x=%00", "/nope",
                                 "/metrics", "/livez", "/docs", "/openapi.json"]), "h": {}, "b": b""}
    if k == 11:
        return {"m": "POST", "p": "/v1/score", "h": j,
                "b": json.dumps({"id": hostile_string(rng), "html": "<div>" * 3000 + hostile_string(rng)}).encode()}
    # the rest: ordinary pages (scoring keeps working under attack), some with invisible characters
    text = seed_text[:rng.randint(200, len(seed_text))]
    if rng.random() < 0.3:
        text = text.replace(" ", rng.choice(["\u200b ", " \u2060", "\u0890 "]))
    return {"m": "POST", "p": "/v1/score", "h": j,
            "b": json.dumps({"id": f"ok-{rng.random()}", "text": text}).encode()}


def scored_record(rng: random.Random, pid: str) -> dict:
    rec = {"id": pid, "text": "Body of the page. " * rng.randint(5, 40), "originality": rng.random(),
           "quality": rng.random(), "verdict": rng.choice(["farm", "ok", "suspect", "x" * 40, None, 7]),
           "signals": {"pasted_twice": rng.random(), "spinning": rng.choice([0.9, "strong", None])},
           "evidence": rng.choice([[], [{"signal": "spun_phrase", "start": 0, "end": 4}],
                                   [{"start": "a"}, None, 3],
                                   [{"signal": "s", "start": i, "end": i + 3} for i in range(0, 300, 2)]]),
           "source": rng.choice([None, {"id": "x"}, {"id": {"id": 1}}, {"id": "s", "similarity": "high"},
                                 {"id": "s", "similarity": 0.8, "matched": "abc"},
                                 {"id": "s", "similarity": 0.8, "method": "copy",
                                  "matched": [{"start": 0, "end": 4, "text": "Body"}, 5]}]),
           "model": rng.choice([{"name": "m", "version": "1"}, "m", {"name": "a\x00"}])}
    if rng.random() < 0.2:
        rec["text"] = rng.choice(["a\x00b " * 30, "\ud800 text", ""])
    return rec


def queue_request(rng: random.Random, n_items: int) -> dict:
    j = {"content-type": "application/json"}
    big = str(rng.choice([2**31, 2**63, 2**64, 10**30]))
    k = rng.randrange(14)
    if k == 0:  # sign-in floods with hostile bodies (throttled: 429)
        body = rng.choice([json.dumps({"name": hostile_string(rng), "password": "nope"}).encode(),
                           deep(rng.choice([50, 2000])), b'{"name": "\\ud800", "password": "x"}',
                           b'{"name": NaN}', b"\xff\xfe", b"{" * 10])
        return {"m": "POST", "p": "/api/login", "h": j, "b": body, "auth": False}
    if k == 1:
        return {"m": "POST", "p": "/login", "h": {"content-type": "application/x-www-form-urlencoded"},
                "b": rng.choice([b"name=al%00ice&password=x", b"name=" + b"a" * 70_000, b"\xff=\xfe",
                                 b"name=fuzz&password=wrong&next=//evil.example"]), "auth": False}
    if k == 2:
        return {"m": "GET", "p": rng.choice([f"/api/items/{big}", f"/items/{big}", f"/api/items?offset={big}",
                                             f"/api/items?limit=-{big}", "/api/items?technique=%00",
                                             "/api/log?moderator=%00", f"/api/log?item_id={big}",
                                             "/?technique=%00", "/review?view=%ff", "/api/items?view=nope",
                                             "/log?moderator=" + "x" * 3000]), "h": {}, "b": b"", "auth": True}
    if k == 3:
        pid = f"f-{rng.random()}"
        return {"m": "POST", "p": "/api/items", "h": j,
                "b": json.dumps({"record": scored_record(rng, pid), "force": True}, default=str).encode()
                if rng.random() < 0.9 else deep(3000), "auth": True}
    if k == 4:
        return {"m": "GET", "p": f"/items/{rng.randint(1, max(1, n_items + 5))}", "h": {}, "b": b"", "auth": True}
    if k == 5:
        return {"m": "GET", "p": "/review", "h": {}, "b": b"", "auth": True}
    if k == 6:
        item = rng.choice([rng.randint(1, max(1, n_items)), big])
        act = rng.choice(["decision", "renew", "release", "claim"])
        body = rng.choice([{"action": rng.choice(["approve", "reject", "skip", "\x00", 5]),
                            "lease_token": hostile_string(rng), "techniques": rng.choice([["x"], "x", [{}]])},
                           {}, {"lease_token": None}])
        return {"m": "POST", "p": f"/api/items/{item}/{act}", "h": j, "b": json.dumps(body).encode(),
                "auth": True}
    if k == 7:
        return {"m": "POST", "p": "/api/claim", "h": j,
                "b": json.dumps({"view": hostile_string(rng), "technique": hostile_string(rng)}).encode(),
                "auth": True}
    if k == 8:
        return {"m": "POST", "p": "/api/undo", "h": rng.choice([j, {"content-type": "text/plain"}]),
                "b": b"{}", "auth": True}
    if k == 9:
        return {"m": "POST", "p": "/api/items", "h": j, "b": b"{" + b'"a":' * 10 + b"1" + b"}" * 10,
                "auth": rng.random() < 0.5}
    if k == 10:
        return {"m": "GET", "p": rng.choice(["/api/stats", "/api/me", "/api/export", "/log", "/",
                                             "/api/items?status=decided", "/static/../app.py"]),
                "h": {}, "b": b"", "auth": rng.random() < 0.8}
    if k == 11:  # a body over the limit, declared or not
        return {"m": "POST", "p": rng.choice(["/api/login", "/api/items"]), "h": j,
                "b": b'{"text": "' + b"a" * rng.choice([70_000, 1_000_000]) + b'"}', "auth": rng.random() < 0.5}
    if k == 12:
        return {"m": rng.choice(["PUT", "DELETE", "PATCH"]), "p": rng.choice(["/api/items", "/api/log", "/items/1"]),
                "h": {}, "b": b"", "auth": True}
    return {"m": "GET", "p": "/api/items?view=" + rng.choice(["priority", "newest", "score"]), "h": {}, "b": b"",
            "auth": True}


# ---- driving --------------------------------------------------------------------------------
class Run:
    """Sends requests from several threads; counts answers; samples the server's RSS."""

    def __init__(self, name: str, base: str, pid: int, threads: int, token: str | None = None):
        self.name, self.base, self.pid, self.threads, self.token = name, base, pid, threads, token
        self.status: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.five: list[str] = []
        self.rss: list[tuple[int, float]] = []
        self.lock = threading.Lock()
        self.sent = 0
        self._local = threading.local()

    def client(self) -> httpx.Client:
        c = getattr(self._local, "c", None)
        if c is None:
            c = self._local.c = httpx.Client(base_url=self.base, timeout=120)
        return c

    def one(self, req: dict) -> None:
        headers = dict(req["h"])
        if req.get("auth") and self.token:
            headers["authorization"] = f"Bearer {self.token}"
        try:
            r = self.client().request(req["m"], req["p"], content=req["b"] or None, headers=headers)
            code = r.status_code
            if code >= 500:
                with self.lock:
                    self.five.append(f"{code} {req['m']} {req['p'][:80]} {r.text[:160]!r}")
        except httpx.HTTPError as exc:
            code = 0
            with self.lock:
                self.errors[type(exc).__name__] += 1
            self._local.c = None
        with self.lock:
            self.status[code] += 1
            self.sent += 1

    def drive(self, requests: list[dict], samples: int = 20) -> None:
        every = max(1, len(requests) // samples)
        self.rss.append((0, rss_mb(self.pid)))
        with ThreadPoolExecutor(self.threads) as pool:
            for start in range(0, len(requests), every):
                list(pool.map(self.one, requests[start:start + every]))
                self.rss.append((min(len(requests), start + every), rss_mb(self.pid)))

    def report(self) -> dict:
        warm_i = max(1, len(self.rss) // 10)
        warm = self.rss[warm_i][1]
        after = [m for _, m in self.rss[warm_i:]]
        classes = Counter(f"{c // 100}xx" if c else "conn-error" for c in self.status.elements())
        return {"server": self.name, "requests": self.sent, "by_class": dict(sorted(classes.items())),
                "by_status": dict(sorted(self.status.items())), "5xx": sum(v for c, v in self.status.items() if c >= 500),
                "connection_errors": dict(self.errors), "examples_5xx": self.five[:10],
                "rss_mb_start": round(self.rss[0][1], 1), "rss_mb_after_warmup": round(warm, 1),
                "rss_mb_max_after_warmup": round(max(after), 1), "rss_mb_end": round(after[-1], 1),
                "rss_growth_after_warmup_pct": round(100 * (max(after) - warm) / warm, 2),
                "rss_samples": [(n, round(m, 1)) for n, m in self.rss]}


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def fuzz_api(n: int, threads: int, seed: int, tmp: Path) -> dict:
    port = free_port()
    env = {**os.environ, "FARMSCORE_MAX_QUEUE": "1000"}
    proc = start([str(BIN / "farmscore"), "serve", "--port", str(port), "--workers", "1"], env, tmp / "api.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/readyz", proc)
        rng = random.Random(seed)
        seed_text = next((ROOT / "seeds").glob("004_*.txt")).read_text(encoding="utf-8")
        reqs = [api_request(rng, seed_text) for _ in range(n)]
        run = Run("scoring API", base, proc.pid, threads)
        run.drive(reqs)
        return run.report()
    finally:
        stop(proc)


def fuzz_queue(db: str, label: str, n: int, threads: int, seed: int, tmp: Path) -> dict:
    env = {**os.environ, "FARMSCORE_QUEUE_SECRET": "fuzz-secret"}
    subprocess.run([str(BIN / "farmscore"), "queue", "add-user", "fuzz", "--password", PASSWORD, "--db", db],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    proc = start([str(BIN / "farmscore"), "queue", "serve", "--db", db, "--port", str(port)], env,
                 tmp / f"queue-{label}.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/login", proc)
        token = httpx.post(base + "/api/login", json={"name": "fuzz", "password": PASSWORD}).json()["token"]
        # warm-up: a posted text loads the queue's scorer (~1 GB), as the first real one would
        seed_text = next((ROOT / "seeds").glob("000_*.txt")).read_text(encoding="utf-8")
        httpx.post(base + "/api/items", json={"id": "warm-up", "text": seed_text},
                   headers={"authorization": f"Bearer {token}"}, timeout=300)
        rng = random.Random(seed)
        run = Run(f"queue ({label})", base, proc.pid, threads, token)
        reqs = [queue_request(rng, n_items=i // 14 + 1) for i in range(n)]
        run.drive(reqs)
        return run.report()
    finally:
        stop(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--api-requests", type=int, default=20_000)
    ap.add_argument("--queue-requests", type=int, default=5_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-api", action="store_true")
    ap.add_argument("--skip-queue", action="store_true")
    ap.add_argument("--json", metavar="FILE", help="also write the reports as JSON")
    args = ap.parse_args()
    print("command: python bench/fuzz.py " + " ".join(sys.argv[1:]), flush=True)
    reports = []
    with tempfile.TemporaryDirectory(prefix="farmscore-fuzz-") as d:
        tmp = Path(d)
        t0 = time.monotonic()
        if not args.skip_api:
            reports.append(fuzz_api(args.api_requests, args.threads, args.seed, tmp))
            print(json.dumps({k: v for k, v in reports[-1].items() if k != "rss_samples"}), flush=True)
        if not args.skip_queue:
            reports.append(fuzz_queue(f"sqlite:///{tmp / 'queue.db'}", "SQLite", args.queue_requests,
                                      args.threads, args.seed, tmp))
            print(json.dumps({k: v for k, v in reports[-1].items() if k != "rss_samples"}), flush=True)
        if not args.skip_pg and not args.skip_queue:
            from moderation.testing import _drop_pg_schema, _new_pg_schema, pg_base_url

            base = pg_base_url()
            url, schema = _new_pg_schema(base, f"fsfuzz_{os.getpid()}")
            try:
                reports.append(fuzz_queue(url, "PostgreSQL", args.queue_requests, args.threads,
                                          args.seed, tmp))
            finally:
                _drop_pg_schema(base, schema)
            print(json.dumps({k: v for k, v in reports[-1].items() if k != "rss_samples"}), flush=True)
        elapsed = time.monotonic() - t0
    print(f"\n| server | requests | 2xx | 4xx | 5xx | connection errors | RSS after warm-up MB | max after MB | end MB | growth |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in reports:
        c = r["by_class"]
        print(f"| {r['server']} | {r['requests']:,} | {c.get('2xx', 0):,} | {c.get('4xx', 0):,} | {r['5xx']} | "
              f"{sum(r['connection_errors'].values())} | {r['rss_mb_after_warmup']:,.0f} | "
              f"{r['rss_mb_max_after_warmup']:,.0f} | {r['rss_mb_end']:,.0f} | {r['rss_growth_after_warmup_pct']:+.1f} % |")
    print(f"\n{elapsed:.0f} s in all")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=1))
    bad = any(r["5xx"] or r["connection_errors"] or r["rss_growth_after_warmup_pct"] > 10 for r in reports)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
