"""``farmscore serve [--host] [--port] [--workers] [--batch-processes]``: run the scoring API under uvicorn.

Limits come from ``FARMSCORE_*`` environment variables (see ``serving.settings``) so the
same settings apply to every worker process, which uvicorn starts from the import string
``serving.app:app``. With more than one worker, prometheus_client's multiprocess mode is
switched on (a temporary ``PROMETHEUS_MULTIPROC_DIR``) so ``/metrics`` counts all workers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from farmscore.args import CliError, bind, port


def register(subparsers) -> None:
    """Add the ``serve`` command to the CLI's subparsers."""
    p = subparsers.add_parser("serve", help="run the scoring HTTP API (FastAPI + uvicorn)")
    p.add_argument("--host", default=os.environ.get("FARMSCORE_HOST", "127.0.0.1"),
                   help="interface to bind (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=port, default=os.environ.get("FARMSCORE_PORT", "8000"),
                   help="TCP port (default 8000)")
    p.add_argument("--workers", type=int, default=int(os.environ.get("FARMSCORE_WORKERS", "1")),
                   help="worker processes (default 1; one per core for throughput)")
    p.add_argument("--batch-processes", type=int, default=None, metavar="N",
                   help="helper processes per worker that share each batch's pages "
                        "(sets FARMSCORE_BATCH_PROCESSES; default 0)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--no-access-log", action="store_true", help="do not log every request")
    p.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Check the settings in this process first (a bad variable fails fast with a clear
    message instead of in every worker), then hand over to uvicorn."""
    import uvicorn

    from serving.settings import Settings

    if args.workers < 1:
        raise CliError("--workers must be >= 1")
    if args.batch_processes is not None:
        if args.batch_processes < 0:
            raise CliError("--batch-processes must be >= 0")
        os.environ["FARMSCORE_BATCH_PROCESSES"] = str(args.batch_processes)  # the workers read it
    try:
        Settings.from_env()
    except ValueError as exc:
        raise CliError(f"{exc} (see the FARMSCORE_* variables in serving/settings.py)") from None
    # a busy port: one line now, not a traceback from uvicorn (which binds it again below)
    bind(args.host, args.port).close()
    tmp = None
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        tmp = tempfile.mkdtemp(prefix="farmscore-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tmp
    try:
        from serving.tcp import uvicorn_options

        uvicorn.run("serving.app:app", host=args.host, port=args.port, workers=args.workers,
                    log_level=args.log_level, access_log=not args.no_access_log,
                    **uvicorn_options())
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0
