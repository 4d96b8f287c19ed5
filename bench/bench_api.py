"""Load benchmark of the scoring API on localhost: latency and throughput.

    python bench/bench_api.py                       # starts `farmscore serve`, 1 worker
    python bench/bench_api.py --workers 2           # one worker per core
    python bench/bench_api.py --tool wrk            # single-page load from wrk (apt install wrk)
    FARMSCORE_BATCH_PROCESSES=1 python bench/bench_api.py --workers 2   # batch helper processes
    python bench/bench_api.py --url http://127.0.0.1:8000   # an already running server

What it measures, and why this way:

* single-page requests (a ~5 KB news article, seed 004, a clean page: every extractor runs
  to the end) at 1, 10 and 50 concurrent clients: requests/s, p50 and p99 latency. The
  client is an asyncio httpx client by default (no extra install) or ``wrk`` (C, much
  lighter, so less of the 2 cores goes to the load generator);
* batch requests of ``--batch`` distinct BBC articles of 4-7 KB (the shared data set),
  from the same client (``--tool``): articles/s at 1, 2 and 2 x ``--workers`` clients;
* in-process costs of the same article (scoring, request validation, JSON encoding), so the
  HTTP overhead can be told apart from the scoring cost.

Bounded in count (``--requests``) and time (``--seconds`` per level), localhost only.
Prints the exact command line and markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402


def article(nbytes: int) -> str:
    """Seed 004 (5.2 KB, a clean article) cut at a word boundary near ``nbytes`` bytes."""
    text = next((ROOT / "seeds").glob("004_*.txt")).read_text(encoding="utf-8").rstrip()
    if len(text.encode()) <= nbytes:
        return text
    cut = text.encode()[:nbytes].decode("utf-8", "ignore")
    return cut[:cut.rfind(" ")]


def batch_articles(n: int, min_kb: float = 4.0, max_kb: float = 7.0) -> list[str]:
    """Up to ``n`` distinct BBC News articles of ``min_kb``..``max_kb`` KB (UTF-8): a batch
    of one text repeated would score the same words over and over, which real crawls don't."""
    from training.corpus import bbc_articles

    return [a.text for a in bbc_articles()
            if min_kb * 1000 <= len(a.text.encode()) <= max_kb * 1000][:n]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, env_extra: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, **env_extra}
    proc = subprocess.Popen([sys.executable, "-m", "farmscore", "serve", "--port", str(port),
                             "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
                            cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("farmscore serve exited")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("server not ready in 180 s")


def tree_rss_mb(pid: int) -> list[tuple[int, float]]:
    """(pid, resident MB) of ``pid`` and every process below it (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                rss = next((int(x.split()[1]) for x in fh if x.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        out.append((p, rss / 1024))
    return out


def wait_for_scorers(proc: subprocess.Popen, expected: int, seconds: float = 180) -> list[float]:
    """Wait until ``expected`` processes of the server hold a scorer (over 300 MB resident):
    /readyz answers as soon as *one* worker is ready, and a benchmark started then would
    measure the others' start-up. Returns the scorer processes' resident MB."""
    deadline = time.monotonic() + seconds
    while True:
        big = [mb for _, mb in tree_rss_mb(proc.pid) if mb > 300]
        if len(big) >= expected or time.monotonic() > deadline:
            time.sleep(2)  # the last one's warm-up
            return sorted(mb for _, mb in tree_rss_mb(proc.pid) if mb > 300)
        time.sleep(0.5)


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # the server's own session: it and its workers only
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def load(base: str, body: bytes | list[bytes], concurrency: int, requests: int,
               seconds: float, warmup: int = 20) -> dict:
    """``concurrency`` clients sending ``body`` (or the bodies of a list, in turn) back to
    back; latency per request."""
    bodies = body if isinstance(body, list) else [body]
    lat: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120,
                                 headers={"content-type": "application/json"}) as client:
        for i in range(warmup):
            await client.post("/v1/score", content=bodies[i % len(bodies)])
        sent = 0
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal sent
            while sent < requests and time.perf_counter() < stop_at:
                sent += 1
                t = time.perf_counter()
                r = await client.post("/v1/score", content=bodies[sent % len(bodies)])
                lat.append(time.perf_counter() - t)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return {"n": len(lat), "wall": wall, "rps": len(lat) / wall, "p50": pct(lat, 50) * 1e3,
            "p99": pct(lat, 99) * 1e3, "statuses": statuses}


WRK_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- FARMSCORE_BENCH_BODY: one body file, or several separated by ";" sent in turn
local bodies = {}
for path in string.gmatch(os.getenv("FARMSCORE_BENCH_BODY"), "[^;]+") do
  local f = io.open(path, "rb")
  bodies[#bodies + 1] = f:read("*a")
  f:close()
end
wrk.body = bodies[1]
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"n\\": %d, \\"p50\\": %f, \\"p99\\": %f, \\"errors\\": %d, \\"status\\": %d}\\n",
    summary.requests, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def load_wrk(base: str, body: bytes | list[bytes], concurrency: int, seconds: float) -> dict:
    """The same load from wrk (one thread: the server needs the cores); a list of bodies is
    sent in turn."""
    bodies = body if isinstance(body, list) else [body]
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for k, b in enumerate(bodies):
            paths.append(Path(d) / f"body{k}.json")
            paths[-1].write_bytes(b)
        (Path(d) / "post.lua").write_text(WRK_LUA)
        env = {**os.environ, "FARMSCORE_BENCH_BODY": ";".join(map(str, paths))}
        cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, int(seconds))}s", "--timeout", "30s",
               "-s", str(Path(d) / "post.lua"), base + "/v1/score"]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    res = json.loads(line[5:])
    dur = float(seconds)
    return {"n": res["n"], "wall": dur, "rps": res["n"] / dur, "p50": res["p50"], "p99": res["p99"],
            "statuses": {"non-2xx": res["status"], "socket errors": res["errors"]}}


def in_process(text: str, n: int) -> dict[str, float]:
    """Per-call costs (ms) of the pieces of one request, in this process."""
    import orjson

    from scoring.score import build_scorer
    from serving.app import _PAGE
    from serving.batch import dumps

    scorer = build_scorer()
    body = json.dumps({"id": "a", "text": text}).encode()
    for _ in range(20):
        scorer.score(text, "a")

    def per_call(fn) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1e3

    rec = scorer.score(text, "a")
    return {"scorer.score (median)": per_call(lambda: scorer.score(text, "a")),
            "orjson.loads request": per_call(lambda: orjson.loads(body)),
            "pydantic PageIn validation": per_call(lambda: _PAGE.validate_python(orjson.loads(body))),
            "orjson.dumps response": per_call(lambda: dumps(rec)),
            "json.dumps response (stdlib)": per_call(lambda: json.dumps(rec).encode())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="benchmark a running server instead of starting one")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers of the started server")
    ap.add_argument("--tool", choices=["httpx", "wrk"], default="httpx", help="single-page load generator")
    ap.add_argument("--concurrency", default="1,10,50")
    ap.add_argument("--requests", type=int, default=2000, help="max single-page requests per level")
    ap.add_argument("--seconds", type=float, default=20, help="max seconds per level")
    ap.add_argument("--article-bytes", type=int, default=5200, help="size of the article (default ~5 KB)")
    ap.add_argument("--batch", type=int, default=100, help="articles per batch request")
    ap.add_argument("--batch-requests", type=int, default=30, help="max batch requests per level")
    ap.add_argument("--batch-articles", type=int, default=600,
                    help="distinct BBC articles of 4-7 KB the batches are made of")
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--skip-batch", action="store_true")
    args = ap.parse_args()
    if args.tool == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk not found (apt-get install wrk)")

    print("command:", " ".join(["python", "bench/bench_api.py", *sys.argv[1:]]))
    print(f"machine: {os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.2f}")
    text = article(args.article_bytes)
    print(f"article: seed 004, {len(text.encode()):,} bytes, {len(text.split()):,} words")
    body = json.dumps({"id": "bench", "text": text}).encode()

    print("\nIn-process costs per call (ms, median):\n")
    print("| step | ms |\n|---|---|")
    for k, v in in_process(text, 200).items():
        print(f"| {k} | {v:.3f} |")

    proc = None
    base = args.url
    if base is None:
        proc, base = start_server(args.workers, {})
        helpers = int(os.environ.get("FARMSCORE_BATCH_PROCESSES") or 0)
        mbs = wait_for_scorers(proc, args.workers * (1 + helpers))
        print(f"\nserver: farmscore serve --workers {args.workers} at {base}, "
              f"FARMSCORE_BATCH_PROCESSES={helpers}; {len(mbs)} processes with a scorer, resident "
              + ", ".join(f"{mb:.0f}" for mb in mbs) + " MB")
    try:
        if not args.skip_single:
            print(f"\nSingle-page requests ({args.tool}; at most {args.requests} requests or "
                  f"{args.seconds:g} s per level):\n")
            print("| clients | requests | req/s | p50 ms | p99 ms | statuses |\n|---|---|---|---|---|---|")
            for c in (int(x) for x in args.concurrency.split(",")):
                if args.tool == "wrk":
                    r = load_wrk(base, body, c, args.seconds)
                else:
                    r = asyncio.run(load(base, body, c, args.requests, args.seconds))
                print(f"| {c} | {r['n']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
                      f"{r['statuses']} |", flush=True)
        if not args.skip_batch:
            arts = batch_articles(args.batch_articles)
            batches = [json.dumps({"pages": [{"id": f"{b}-{i}", "text": arts[(b * args.batch + i) % len(arts)]}
                                             for i in range(args.batch)]}).encode()
                       for b in range(20)]  # 20 bodies, each 100 distinct articles from another offset
            kb = sum(len(a.encode()) for a in arts) / len(arts) / 1000
            print(f"\nBatch requests ({args.tool}) of {args.batch} distinct BBC articles ({len(arts)} in turn, mean "
                  f"{kb:.1f} KB; {len(batches[0]) / 1e6:.2f} MB per request; "
                  f"{args.seconds:g} s per level" + ("" if args.tool == "wrk" else f", at most {args.batch_requests} requests") + "):\n")
            print("| clients | batches | articles/s | p50 ms/batch | statuses |\n|---|---|---|---|---|")
            for c in sorted({1, 2, max(1, args.workers), 2 * max(1, args.workers)}):
                if args.tool == "wrk":
                    r = load_wrk(base, batches, c, args.seconds)
                else:
                    r = asyncio.run(load(base, batches, c, args.batch_requests, args.seconds, warmup=2))
                print(f"| {c} | {r['n']} | {r['rps'] * args.batch:.0f} | {r['p50']:.0f} | "
                      f"{r['statuses']} |", flush=True)
    finally:
        if proc is not None:
            stop_server(proc)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
