"""``farmscore queue``: the moderation queue from the command line.

    farmscore queue migrate                       create / upgrade the database (Alembic, to head)
    farmscore queue serve [--host H] [--port P]   the web app (JSON API + pages)
    farmscore queue import --jsonl FILE           score pages and queue those past the risk threshold
    farmscore queue export [-o FILE]              decisions as a labelled JSONL data set
    farmscore queue add-user NAME [--password P]  add a moderator (password from stdin otherwise)
    farmscore queue deactivate-user NAME          stop a moderator signing in; ends their sessions

The database is ``--db`` or ``$FARMSCORE_DB`` (default ``sqlite:///farmscore-queue.db``);
PostgreSQL by URL, e.g. ``postgresql+psycopg://user@host/db``. The risk threshold is
``--risk`` or ``$FARMSCORE_QUEUE_RISK`` (default 0.5).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TextIO

from farmscore.args import bind, port


def register(subparsers) -> None:
    """Add the ``queue`` command and its actions to a CLI's subparsers."""
    p = subparsers.add_parser("queue", help="the moderation queue (serve, import, export, users)")
    actions = p.add_subparsers(dest="queue_action", required=True)

    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", default=None,
                    help="database URL (default $FARMSCORE_DB or sqlite:///farmscore-queue.db)")

    m = actions.add_parser("migrate", parents=[db], help="upgrade the database schema to head")
    m.set_defaults(func=run_migrate)

    s = actions.add_parser("serve", parents=[db], help="run the web app")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=port, default=8400, help="TCP port (default 8400)")
    s.add_argument("--risk", type=float, default=None, help="queue threshold for POSTed texts")
    s.add_argument("--index", default=None, help="originality index for scoring POSTed texts")
    s.add_argument("--root-path", default="", help="URL prefix when behind a proxy")
    s.add_argument("--lease-seconds", type=int, default=600)
    s.set_defaults(func=run_serve)

    i = actions.add_parser("import", parents=[db], help="score pages and queue the risky ones")
    i.add_argument("--jsonl", required=True,
                   help='one {"id","text","url"?} or one scored record (with "text") a line; "-": stdin')
    i.add_argument("--risk", type=float, default=None, help="queue threshold (default $FARMSCORE_QUEUE_RISK or 0.5)")
    i.add_argument("--index", default=None, help="originality index (path or redis:// URL)")
    i.add_argument("--force", action="store_true", help="queue every page, whatever its risk")
    i.set_defaults(func=run_import)

    e = actions.add_parser("export", parents=[db], help="decisions as labelled JSONL")
    e.add_argument("-o", "--output", default=None, help="output file (default stdout)")
    e.set_defaults(func=run_export)

    u = actions.add_parser("add-user", parents=[db], help="add a moderator or reset a password")
    u.add_argument("name")
    u.add_argument("--password", default=None, help="default: read from stdin (or prompt)")
    u.set_defaults(func=run_add_user)

    d = actions.add_parser("deactivate-user", parents=[db],
                           help="stop a moderator signing in (their sessions end at once)")
    d.add_argument("name")
    d.set_defaults(func=run_deactivate_user)


def _queue(args, **kwargs):
    from moderation.db import default_db_url, make_engine, migrate
    from moderation.service import ModerationQueue

    engine = make_engine(args.db or default_db_url())
    migrate(engine)
    return ModerationQueue(engine, **kwargs)


def run_migrate(args: argparse.Namespace) -> int:
    from moderation.db import current_revision, default_db_url, make_engine, migrate

    engine = make_engine(args.db or default_db_url())
    migrate(engine)
    print(f"farmscore queue: database at revision {current_revision(engine)}", file=sys.stderr)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from moderation import app as queue_app
    from scoring.score import build_scorer
    from serving.settings import Settings
    from serving.tcp import uvicorn_options

    try:
        Settings.from_env()  # the limits shared with the API (body, header time, keep-alive)
    except ValueError as exc:
        print(f"farmscore queue serve: {exc}", file=sys.stderr)
        return 2
    sock = bind(args.host, args.port)  # a busy port is one line, before anything else
    app = queue_app.create_queue_app(args.db, risk_threshold=args.risk, lease_seconds=args.lease_seconds,
                                     scorer_factory=lambda: build_scorer(index=args.index))
    config = uvicorn.Config(app, host=args.host, port=args.port, root_path=args.root_path,
                            **uvicorn_options())
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def run_import(args: argparse.Namespace, stderr: TextIO | None = None) -> int:
    """Exit 0 when every line was read (queued, below threshold or already queued), 1 when
    some lines were refused (reported with their line number), 2 when the file is missing."""
    from sqlalchemy.exc import DBAPIError

    from farmscore.jsonl import iter_lines, open_input, valid_id
    from moderation.service import QueueError
    from scoring.score import build_scorer

    err = stderr or sys.stderr
    # the input first: a missing file must not leave a new, empty database behind
    src = open_input(args.jsonl, "queue import", err)
    if src is None:
        return 2
    try:
        q = _queue(args, risk_threshold=args.risk,
                   scorer_factory=lambda: build_scorer(index=args.index))
    except BaseException:
        src.close()
        raise
    totals = {"read": 0, "queued": 0, "below_threshold": 0, "duplicate": 0, "refused": 0}
    with src:
        # one bad line (not UTF-8, lone surrogates, NaN, deep nesting, a field the database
        # cannot hold) is reported with its number and the import goes on
        for lineno, rec, bad in iter_lines(src):
            totals["read"] += 1
            try:
                if bad is not None:
                    raise QueueError(bad["reason"].split(": ", 1)[1])
                if "originality" in rec or "quality" in rec or "error" in rec:
                    res = q.enqueue(rec, force=args.force)
                else:
                    text, pid = rec.get("text"), rec.get("id")
                    if not isinstance(text, str) or not valid_id(pid):
                        raise QueueError("need 'id' (a string or finite number) and 'text' (a string)")
                    res = q.enqueue_text(text, str(pid), rec.get("url"), force=args.force)
            except QueueError as exc:
                totals["refused"] += 1
                print(f"line {lineno}: {exc}", file=err)
                continue
            except DBAPIError as exc:  # the database refused it: report, and go on
                totals["refused"] += 1
                print(f"line {lineno}: the database refused it: "
                      f"{str(exc.orig).splitlines()[0][:300]}", file=err)
                continue
            totals[res.reason] += 1
    print("farmscore queue import: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in totals.items())
          + f" (threshold {q.risk_threshold})", file=err)
    return 1 if totals["refused"] else 0


def run_export(args: argparse.Namespace) -> int:
    q = _queue(args)
    out = sys.stdout if args.output in (None, "-") else open(args.output, "w", encoding="utf-8")
    n = 0
    try:
        for rec in q.export():
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"farmscore queue export: {n} labelled pages", file=sys.stderr)
    return 0


def run_add_user(args: argparse.Namespace) -> int:
    from moderation.service import QueueError

    pw = args.password
    if pw is None:
        pw = getpass.getpass(f"password for {args.name}: ") if sys.stdin.isatty() \
            else sys.stdin.readline().rstrip("\r\n")
    try:
        _queue(args).add_moderator(args.name, pw)
    except QueueError as exc:
        print(f"farmscore queue add-user: {exc}", file=sys.stderr)
        return 2
    print(f"farmscore queue: moderator {args.name!r} can sign in", file=sys.stderr)
    return 0


def run_deactivate_user(args: argparse.Namespace) -> int:
    """Exit 0 when the moderator was deactivated, 1 when there is no such moderator."""
    if not _queue(args).deactivate_moderator(args.name):
        print(f"farmscore queue deactivate-user: no moderator {args.name!r}", file=sys.stderr)
        return 1
    print(f"farmscore queue: moderator {args.name!r} can no longer sign in; their sessions "
          "have ended (add-user NAME makes them active again)", file=sys.stderr)
    return 0
