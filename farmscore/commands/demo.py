"""``farmscore demo``: the main job on embedded defaults, for a first look.

Indexes the seeds' source (:mod:`farmscore.seeds`) in a temporary originality index,
scores the five seed pages against it (printing the table), puts those past the queue's
risk threshold into a moderation queue in a local SQLite file, creates a moderator ``demo``
(password ``demo-moderator``), and serves the scoring API (scoring against the same index)
with the queue mounted at ``/queue`` until Ctrl-C. The port is taken before anything is
printed, so a busy one is a one-line error; ``--index`` uses an index of your own instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile

from farmscore.args import bind, port


def _seed_source_index() -> str:
    """A fresh index directory holding the seeds' source; the caller removes it."""
    from farmscore.seeds import source_record
    from originality import open_index

    path = tempfile.mkdtemp(prefix="farmscore-demo-index-")
    index = open_index(path, create=True)
    try:
        index.add([source_record()])
    finally:
        index.close()
    return path


def run_demo(args) -> int:
    sock = bind(args.host, args.port)  # before anything is printed as served
    # uvicorn re-raises the SIGTERM it caught once it has shut down, under the handler that
    # was there before it: this one, so that the temporary index below is still removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp_index = None if args.index else _seed_source_index()
    try:
        return _serve_demo(args, sock, args.index or tmp_index)
    finally:
        sock.close()
        if tmp_index:
            shutil.rmtree(tmp_index, ignore_errors=True)


def _serve_demo(args, sock, index: str) -> int:
    import dataclasses

    import uvicorn

    from farmscore.config import seeds_dir
    from farmscore.output import format_table
    from moderation import create_queue_app
    from moderation.db import make_engine, migrate
    from moderation.service import ModerationQueue
    from scoring.score import build_scorer
    from serving.app import create_app
    from serving.settings import Settings

    db_url = args.db or "sqlite:///farmscore-demo.db"
    scorer = build_scorer(index=index)
    records = []
    for path in sorted(seeds_dir().glob("0*.txt")):
        rec = scorer.score(path.read_text(encoding="utf-8"), path.name)
        records.append(rec)
    print(format_table(records))

    engine = make_engine(db_url)
    migrate(engine)
    queue = ModerationQueue(engine, scorer=scorer)
    if not queue.moderator_exists("demo"):
        queue.add_moderator("demo", "demo-moderator")
    queued = 0
    for path, rec in zip(sorted(seeds_dir().glob("0*.txt")), records):
        res = queue.enqueue({**rec, "text": path.read_text(encoding="utf-8")})
        queued += res.queued
    engine.dispose()

    os.environ.setdefault("FARMSCORE_QUEUE_SECRET", "farmscore-demo-only")
    api = create_app(dataclasses.replace(Settings.from_env(), index=index))
    api.mount("/queue", create_queue_app(db_url, scorer=scorer))
    base = f"http://{args.host}:{sock.getsockname()[1]}"
    print(f"\n{queued} seed page(s) newly queued in {db_url}.")
    if not args.index:
        print(f"Originality index: the seeds' source (seed 000's first copy) in {index}")
    print(f"Moderation queue: {base}/queue/  (sign in as demo / demo-moderator)")
    print(f"Scoring API:      {base}/v1/score   docs: {base}/docs   metrics: {base}/metrics")
    print("Ctrl-C stops the server.", flush=True)
    uvicorn.Server(uvicorn.Config(api, host=args.host, port=args.port,
                                  log_level="warning")).run(sockets=[sock])
    return 0


def register(sub) -> None:
    p = sub.add_parser("demo", help="score the seeds, queue them, serve the API and the queue")
    p.add_argument("--db", default=None, help="queue database URL (default sqlite:///farmscore-demo.db)")
    p.add_argument("--index", default=os.environ.get("FARMSCORE_INDEX"),
                   help="originality index (default: a temporary one holding the seeds' source)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=port, default=8000, help="TCP port (default 8000)")
    p.set_defaults(func=run_demo)
