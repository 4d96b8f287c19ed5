"""``farmscore demo``: the main job on embedded defaults, for a first look.

Scores the five seed pages (printing the table), puts those past the queue's risk threshold
into a moderation queue in a local SQLite file, creates a moderator ``demo`` (password
``demo-moderator``), and serves the scoring API with the queue mounted at ``/queue`` until Ctrl-C.
"""

from __future__ import annotations

import os


def run_demo(args) -> int:
    import uvicorn

    from farmscore.config import seeds_dir
    from farmscore.output import format_table
    from moderation import create_queue_app
    from moderation.db import make_engine, migrate
    from moderation.service import ModerationQueue
    from scoring.score import build_scorer
    from serving.app import create_app

    db_url = args.db or "sqlite:///farmscore-demo.db"
    scorer = build_scorer(index=args.index)
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
    api = create_app()
    api.mount("/queue", create_queue_app(db_url, scorer=scorer))
    base = f"http://{args.host}:{args.port}"
    print(f"\n{queued} seed page(s) newly queued in {db_url}.")
    print(f"Moderation queue: {base}/queue/  (sign in as demo / demo-moderator)")
    print(f"Scoring API:      {base}/v1/score   docs: {base}/docs   metrics: {base}/metrics")
    print("Ctrl-C stops the server.", flush=True)
    uvicorn.run(api, host=args.host, port=args.port, log_level="warning")
    return 0


def register(sub) -> None:
    p = sub.add_parser("demo", help="score the seeds, queue them, serve the API and the queue")
    p.add_argument("--db", default=None, help="queue database URL (default sqlite:///farmscore-demo.db)")
    p.add_argument("--index", default=os.environ.get("FARMSCORE_INDEX"), help="originality index")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=run_demo)
