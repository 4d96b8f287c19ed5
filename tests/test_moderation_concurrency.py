"""Many moderators at once: every item is decided exactly once, and the log proves it.

Eight workers (threads, each with its own engine and connection pool, as separate server
processes would have) claim and decide 240 items concurrently on PostgreSQL, where claims
use ``FOR UPDATE SKIP LOCKED``; the same run on SQLite exercises the conditional-UPDATE
path. Workers also replay every decision (a retried request) and try a forged token, and
some skip, so the idempotency and lease rules are under load too. Nothing here measures
time: the assertions are about the log.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from moderation.db import make_engine, migrate
from moderation.service import Conflict, ModerationQueue
from moderation.testing import db_url, pg_schemas, pg_url, record  # noqa: F401 - fixtures

WORKERS = 8
ITEMS = 240


def _run_workers(url: str, n_items: int, workers: int) -> tuple[ModerationQueue, dict]:
    setup = ModerationQueue(make_engine(url), risk_threshold=0.5)
    migrate(setup.engine)
    for i in range(n_items):
        setup.enqueue(record(f"page-{i:04d}", quality=0.05 + (i % 40) / 100))
    stats: dict[str, Counter] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work(w: int) -> None:
        me = f"mod{w}"
        q = ModerationQueue(make_engine(url), risk_threshold=0.5)
        c = Counter()
        try:
            barrier.wait()
            while True:
                it = q.claim_next(me)
                if it is None:
                    # others still hold items I may get back (e.g. one they skip):
                    # stop only when nothing is left for me
                    if q.remaining_for(me) == 0:
                        break
                    time.sleep(0.005)
                    continue
                c["claimed"] += 1
                with pytest.raises(Conflict):
                    q.decide(me, it["id"], "forged-token", "approve")
                n = int(it["page_id"][-4:])
                if n % 7 == w % 7 and it["skip_count"] == 0:
                    q.decide(me, it["id"], it["lease_token"], "skip")
                    c["skipped"] += 1
                    continue
                action, techs = ("reject", ["pasted_twice"]) if n % 3 else ("approve", [])
                first = q.decide(me, it["id"], it["lease_token"], action, techs)
                again = q.decide(me, it["id"], it["lease_token"], action, techs)  # a retry
                assert not first["replayed"] and again["replayed"] and again["id"] == first["id"]
                c["decided"] += 1
        except BaseException as exc:  # noqa: BLE001 - surfaced in the main thread
            errors.append(exc)
        finally:
            stats[me] = c
            q.engine.dispose()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return setup, stats


def _check_exactly_once(q: ModerationQueue, stats: dict, n_items: int) -> None:
    log = q.log(limit=10_000)
    finals = Counter(d["item_id"] for d in log if d["action"] in ("approve", "reject"))
    assert len(finals) == n_items, "every item decided"
    assert set(finals.values()) == {1}, "and none twice"
    assert not [d for d in log if d["action"] == "undo"]
    assert sum(c["decided"] for c in stats.values()) == n_items
    assert sum(c["skipped"] for c in stats.values()) == sum(d["action"] == "skip" for d in log)
    # the label in the items table agrees with the log, and the export has every item once
    by_item = {d["item_id"]: d for d in log if d["action"] in ("approve", "reject")}
    export = list(q.export())
    assert len(export) == n_items and len({r["id"] for r in export}) == n_items
    for it in q.list_items("score", status="decided", limit=500):
        d = by_item[it["id"]]
        assert it["decided_by"] == d["moderator"]
        assert it["label"] == ("farm" if d["action"] == "reject" else "clean")
    assert q.counts() == {"pending": 0, "claimed": 0, "decided": n_items}
    # work really was spread over the moderators
    assert sum(1 for c in stats.values() if c["decided"]) >= 2


def test_eight_workers_on_postgresql_decide_every_item_exactly_once(pg_url):  # noqa: F811
    q, stats = _run_workers(pg_url, ITEMS, WORKERS)
    try:
        _check_exactly_once(q, stats, ITEMS)
        print("\npostgresql per-worker", {k: dict(v) for k, v in sorted(stats.items())})
    finally:
        q.engine.dispose()


def test_concurrent_workers_on_both_backends(db_url):  # noqa: F811
    q, stats = _run_workers(db_url, 80, WORKERS)
    try:
        _check_exactly_once(q, stats, 80)
    finally:
        q.engine.dispose()


def test_simultaneous_claims_on_postgresql_get_distinct_items(pg_url):  # noqa: F811
    """All eight claim at the same instant (a barrier): with SKIP LOCKED nobody waits on or
    steals another's row; each gets its own item."""
    setup = ModerationQueue(make_engine(pg_url), risk_threshold=0.5)
    migrate(setup.engine)
    for i in range(WORKERS):
        setup.enqueue(record(f"p{i}"))
    barrier = threading.Barrier(WORKERS)
    got: dict[int, int | None] = {}
    engines = [make_engine(pg_url) for _ in range(WORKERS)]

    def claim(w: int) -> None:
        q = ModerationQueue(engines[w], risk_threshold=0.5)
        barrier.wait()
        it = q.claim_next(f"m{w}")
        got[w] = it["id"] if it else None

    threads = [threading.Thread(target=claim, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert None not in got.values()
    assert len(set(got.values())) == WORKERS
    assert ModerationQueue(setup.engine).claim_next("late") is None
    setup.engine.dispose()
