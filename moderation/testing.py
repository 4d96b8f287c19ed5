"""Test support for the moderation queue: real databases, real servers, record builders.

Used by ``tests/test_moderation*.py`` (fixtures are imported into those modules). Nothing
here is mocked: ``db_url`` is a fresh SQLite file or a fresh PostgreSQL schema per test,
and ``serve`` runs uvicorn on a free localhost port.

PostgreSQL comes from ``$FARMSCORE_TEST_PG`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). When it is unreachable the
PostgreSQL cases skip, unless ``$FARMSCORE_TEST_PG`` was set explicitly: then they fail,
so a CI job that promises PostgreSQL cannot go green without it.
"""

from __future__ import annotations

import itertools
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count()


def pg_base_url() -> str:
    return os.environ.get("FARMSCORE_TEST_PG") or DEFAULT_PG


def _pg_reachable(url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    from sqlalchemy import create_engine, text

    try:
        eng = create_engine(url)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[tuple[str, str]]:
    """(base URL, schema-name prefix unique to this test session); drops every schema with
    the prefix at the end, even those a crashed test left behind."""
    url = pg_base_url()
    why = _pg_reachable(url)
    if why:
        if os.environ.get("FARMSCORE_TEST_PG"):
            pytest.fail(f"PostgreSQL at $FARMSCORE_TEST_PG is not reachable: {why}")
        pytest.skip(f"PostgreSQL not reachable at {url}: {why}")
    prefix = f"fsq_{os.getpid()}_{secrets.token_hex(4)}"
    yield url, prefix
    from sqlalchemy import create_engine, text

    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        names = conn.execute(text("select nspname from pg_namespace where nspname like :p"),
                             {"p": prefix + "%"}).scalars().all()
        for n in names:
            conn.execute(text(f'drop schema "{n}" cascade'))
    eng.dispose()


def _new_pg_schema(base_url: str, prefix: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    schema = f"{prefix}_{next(_counter)}"
    eng = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    eng.dispose()
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options={quote('-csearch_path=' + schema)}", schema


def _drop_pg_schema(base_url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'drop schema if exists "{schema}" cascade'))
    eng.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.db'}"
        return
    base, prefix = request.getfixturevalue("pg_schemas")
    url, schema = _new_pg_schema(base, prefix)
    yield url
    _drop_pg_schema(base, schema)


@pytest.fixture
def pg_url(pg_schemas) -> Iterator[str]:
    """A fresh PostgreSQL schema only (for the PostgreSQL-specific concurrency test)."""
    base, prefix = pg_schemas
    url, schema = _new_pg_schema(base, prefix)
    yield url
    _drop_pg_schema(base, schema)


def record(page_id: str, text: str | None = None, originality: float = 1.0,
           quality: float = 0.2, signals: dict | None = None, evidence: list | None = None,
           source: dict | None = None, url: str | None = None) -> dict:
    """A scored record in the ``farmscore score`` contract (plus ``text``)."""
    text = text if text is not None else f"Body of {page_id}. " * 30
    return {"id": page_id, "text": text, "url": url, "originality": originality,
            "quality": quality, "verdict": "farm" if min(originality, quality) < 0.5 else "ok",
            "signals": signals if signals is not None else {"pasted_twice": 1.0, "disclaimer": 0.2},
            "evidence": evidence or [], "source": source,
            "model": {"name": "farmscore-rules", "version": "1"}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app, port: int | None = None, startup_timeout: float = 120.0,
                 **config) -> tuple:
    """Start ``app`` with uvicorn in a daemon thread on ``port`` (default: a free localhost
    port) and wait until it serves; ``config`` goes to ``uvicorn.Config`` (log level
    "critical" and lifespan "on" unless given). Returns ``(server, thread, port)``; stop it
    with ``server.should_exit = True`` and ``thread.join()``."""
    import uvicorn

    port = port or free_port()
    config = {"log_level": "critical", "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return server, thread, port


@contextmanager
def serve(app, port: int | None = None) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free localhost port; yields its base URL."""
    server, thread, port = start_server(app, port, startup_timeout=30, log_level="warning",
                                        lifespan="off")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
