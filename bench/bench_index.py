"""Benchmark the originality index: build time, memory and query latency at scale.

    python -m bench.bench_index --n 200000                 # local (SQLite) backend
    python -m bench.bench_index --n 20000 --backend redis  # Redis backend, smaller N

Pages are synthetic: 12-20 sentences drawn from Reuters-21578 and BBC, each word replaced
with probability ``--mutate`` by a word drawn from the same corpus (so pages share
sentences' shape and vocabulary, as news does, but not whole 5-word runs, as independent
pages do not). Queries are a third copies of indexed pages (5% of words changed), a third
spins (20% of content words replaced), a third new pages; latency is the full
``Index.query`` (fingerprinting included), one query at a time.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import sys
import time
import uuid

import numpy as np

_SENT_RE = re.compile(r"(?<=[.!?])\s+")


def sentence_pool(limit: int = 200_000) -> list[str]:
    """Sentences of Reuters and BBC articles (the shared data), 6 words or more."""
    from training.corpus import bbc_articles, reuters_articles

    out: list[str] = []
    for a in list(bbc_articles()) + list(reuters_articles(min_words=40)):
        out += [s for s in _SENT_RE.split(a.body.replace("\n", " ")) if len(s.split()) >= 6]
        if len(out) >= limit:
            break
    return out


def mutate(words: list[str], rate: float, vocab: list[str], rng: random.Random) -> list[str]:
    return [rng.choice(vocab) if rng.random() < rate else w for w in words]


def make_page(pool: list[str], vocab: list[str], rng: random.Random, rate: float) -> str:
    sents = [" ".join(mutate(s.split(), rate, vocab, rng)) for s in rng.sample(pool, rng.randint(12, 20))]
    return "\n\n".join(" ".join(sents[i:i + 3]) for i in range(0, len(sents), 3))


def spin(text: str, rate: float, vocab: list[str], rng: random.Random) -> str:
    """Replace ``rate`` of lower-case content words (a crude synonym spinner)."""
    from originality.fingerprints import stop_words

    stops = stop_words()
    return " ".join(rng.choice(vocab) if (w.isalpha() and w.islower() and w not in stops
                                          and rng.random() < rate) else w
                    for w in text.split(" "))


def rss_mb() -> float:
    """Peak resident set size of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_split_mb() -> dict[str, float]:
    """Current RSS split (MB): the process's own memory (anonymous: heap, numpy) and file
    pages it has mapped (the SQLite file under mmap: shared page cache, evictable)."""
    out = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "RssAnon:", "RssFile:", "RssShmem:")):
                    name, kb, _ = line.split()
                    out[name[:-1]] = int(kb) / 1024
    except OSError:
        pass
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="pages to index")
    ap.add_argument("--backend", choices=["local", "redis"], default="local")
    ap.add_argument("--location", default=None, help="index dir (local) or redis URL")
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--batch", type=int, default=2000,
                    help="pages per add (one transaction); at a million pages every batch "
                         "rewrites most B-tree leaves of the postings, so larger is faster")
    ap.add_argument("--mutate", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="fingerprinting processes for add")
    ap.add_argument("--keep", action="store_true", help="keep the index afterwards")
    ap.add_argument("--query-existing", action="store_true",
                    help="--location already holds this run's --n pages (built with --keep, same "
                         "--seed/--mutate): regenerate them without adding, only query")
    ap.add_argument("--preload", action="store_true",
                    help="local backend: read the whole index into SQLite's own page cache at "
                         "open (see SQLiteStore.preload), so queries never wait for the disk")
    ap.add_argument("--build-minutes", type=float, default=None,
                    help="stop adding after this long and query what was built")
    args = ap.parse_args(argv)

    from originality import open_index

    print("command: python -m bench.bench_index " + " ".join(sys.argv[1:] if argv is None else argv))
    rng = random.Random(args.seed)
    pool = sentence_pool()
    vocab = [w for s in pool[:20000] for w in s.split()]
    if args.backend == "local":
        loc = args.location or f"/tmp/farmscore-bench-{uuid.uuid4().hex[:8]}"
        if not args.query_existing:
            shutil.rmtree(loc, ignore_errors=True)
    else:
        loc = args.location or f"redis://127.0.0.1:6379/0?prefix=farmscore-bench:{uuid.uuid4().hex[:8]}"
    p0 = time.perf_counter()
    index = open_index(loc, create=not args.query_existing, workers=args.workers,
                       preload=args.preload)
    if args.preload:
        print(f"preload: {time.perf_counter() - p0:.1f} s, RSS {rss_split_mb()}", flush=True)
    redis_before = index.size_bytes() if args.backend == "redis" else 0
    rss0 = rss_mb()
    kept: list[tuple[str, str]] = []  # (id, text) of pages later used as query sources
    keep_every = max(1, args.n // args.queries)
    t0, c0 = time.perf_counter(), time.process_time()
    gen_s = gen_c = 0.0
    for start in range(0, args.n, args.batch):
        g, gc = time.perf_counter(), time.process_time()
        batch = []
        for i in range(start, min(args.n, start + args.batch)):
            text = make_page(pool, vocab, rng, args.mutate)
            batch.append({"id": f"p{i}", "text": text})
            if i % keep_every == 0:
                kept.append((f"p{i}", text))
        gen_s += time.perf_counter() - g
        gen_c += time.process_time() - gc
        if not args.query_existing:
            index.add(batch, strict=True)
        done = min(args.n, start + args.batch)
        out_of_time = args.build_minutes and time.perf_counter() - t0 > args.build_minutes * 60
        if done % (args.batch * 5) == 0 or args.batch >= 10_000 or done == args.n or out_of_time:
            el = time.perf_counter() - t0 - gen_s
            if args.query_existing:
                print(f"  {done:,} pages regenerated (not added), {gen_s:.0f} s", file=sys.stderr,
                      flush=True)
            else:
                print(f"  {done:,} pages, {el:.0f} s indexing ({el / done * 1e3:.2f} ms/page), "
                      f"RSS {rss_mb():.0f} MB", file=sys.stderr, flush=True)
        if out_of_time:
            print(f"  --build-minutes {args.build_minutes} reached: stopping at {done:,} pages",
                  file=sys.stderr, flush=True)
            break
    build_s = time.perf_counter() - t0 - gen_s
    build_cpu = time.process_time() - c0 - gen_c  # this process only (not --workers)
    rss_build = rss_split_mb()
    size = index.size_bytes() - redis_before
    n = len(index)
    if args.query_existing and n != args.n:
        ap.error(f"{loc} holds {n:,} pages, not --n {args.n:,}")

    # queries: copies, spins, new pages
    lat = {"copy": [], "spin": [], "new": []}
    cpu = {"copy": [], "spin": [], "new": []}  # CPU time: what other processes cannot inflate
    hits = {"copy": 0, "spin": 0, "new": 0}
    # one untimed query first: imports, the lazily built key maker and the first
    # touches of SQLite's schema are not what a query costs
    index.query(make_page(pool, vocab, random.Random(args.seed + 2), args.mutate))
    qrng = random.Random(args.seed + 1)
    for j, (pid, text) in enumerate(kept[: args.queries]):
        kind = ("copy", "spin", "new")[j % 3]
        if kind == "copy":
            q = " ".join(mutate(text.split(" "), 0.05, vocab, qrng))
        elif kind == "spin":
            q = spin(text, 0.2, vocab, qrng)
        else:
            q = make_page(pool, vocab, qrng, args.mutate)
        t, c = time.perf_counter(), time.process_time()
        matches = index.query(q)
        lat[kind].append((time.perf_counter() - t) * 1e3)
        cpu[kind].append((time.process_time() - c) * 1e3)
        hits[kind] += bool(matches) and (kind == "new" or matches[0].id == pid)
    allq = np.concatenate([np.asarray(v) for v in lat.values()])
    allc = np.concatenate([np.asarray(v) for v in cpu.values()])
    print(f"\n| backend | pages | build s | ms/page | RSS MB (peak) | store MB | bytes/page "
          f"| query p50 ms | query p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.backend} | {n:,} | {build_s:.0f} | {build_s / n * 1e3:.2f} | {rss_mb():.0f} "
          f"(start {rss0:.0f}) | {size / 2**20:.0f} | {size / n:.0f} | "
          f"{np.percentile(allq, 50):.2f} | {np.percentile(allq, 99):.2f} |")
    if not args.query_existing:
        print(f"  build: {build_s:.0f} s wall, {build_cpu:.0f} s CPU of this process "
              f"({build_cpu / n * 1e3:.2f} ms/page); generating pages (excluded) {gen_s:.0f} s")
    def fmt(d):
        return (f"RSS {d.get('VmRSS', 0):.0f} MB = own (anon) {d.get('RssAnon', 0):.0f} MB + "
                f"mapped file pages {d.get('RssFile', 0):.0f} MB + shmem {d.get('RssShmem', 0):.0f} MB")
    if not args.query_existing:
        print(f"  after build: {fmt(rss_build)}")
    print(f"  after queries: {fmt(rss_split_mb())}; peak RSS {rss_mb():.0f} MB")
    print(f"  all  : CPU time per query p50 {np.percentile(allc, 50):.2f} ms, "
          f"p99 {np.percentile(allc, 99):.2f} ms; load average {os.getloadavg()[0]:.1f}")
    for k, v in lat.items():
        a = np.asarray(v)
        what = "any match (false)" if k == "new" else "source found @1"
        print(f"  {k:5s}: {len(a)} queries, p50 {np.percentile(a, 50):.2f} ms, "
              f"p99 {np.percentile(a, 99):.2f} ms (CPU p50 {np.percentile(cpu[k], 50):.2f}, "
              f"p99 {np.percentile(cpu[k], 99):.2f}), {what}: {hits[k]}/{len(a)}")
    keep = args.keep or args.query_existing
    if args.backend == "redis" and not keep:
        index.store.drop()
    index.close()
    if args.backend == "local" and not keep:
        shutil.rmtree(loc, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
