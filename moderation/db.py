"""Tables, engine and migrations of the moderation queue.

The schema is defined once here with SQLAlchemy Core (the service issues explicit SQL so
the claim protocol is visible: a conditional ``UPDATE ... WHERE`` and, on PostgreSQL,
``SELECT ... FOR UPDATE SKIP LOCKED``) and created only through Alembic
(``moderation/migrations``), so a database is always at a known revision. A test checks
that the migrated schema matches :data:`metadata`.

Times are stored as naive UTC ``DateTime`` on both back ends: SQLite has no time zones,
and one convention everywhere keeps lease comparisons correct.

Tables
------
``moderators``      who may sign in (argon2 password hash)
``items``           one flagged page: text, scores, evidence, source, current state and lease
``item_techniques`` (item, signal) for every signal with strength >= 0.5 (the technique filter)
``decisions``       the append-only audit log (approve / reject / skip / undo); triggers
                    refuse UPDATE and DELETE on it
``source_texts``    texts of matched sources by source id, so the item view can show them
``sessions``        one row per signed-in session (random id, moderator, expiry): a session
                    ends when its row goes (sign-out, password change, deactivation)
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (JSON, Boolean, Column, DateTime, Engine, Float, ForeignKey, Index,
                        Integer, MetaData, String, Table, Text, UniqueConstraint, create_engine,
                        event)

DEFAULT_DB = "sqlite:///farmscore-queue.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

metadata = MetaData()

moderators = Table(
    "moderators", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
)

items = Table(
    "items", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("page_id", String(512), nullable=False, unique=True),
    Column("url", Text),
    Column("text", Text, nullable=False),
    Column("originality", Float, nullable=False),
    Column("quality", Float, nullable=False),
    Column("risk", Float, nullable=False),
    Column("priority", Float, nullable=False),
    Column("verdict", String(16)),
    Column("signals", JSON, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("source", JSON),
    Column("model_name", String(100)),
    Column("model_version", String(50)),
    # 'pending' (in the queue) or 'decided' (approved or rejected; a skip leaves it pending)
    Column("status", String(16), nullable=False, default="pending"),
    Column("label", String(8)),  # 'farm' | 'clean' once decided
    Column("techniques", JSON),  # the moderator's techniques when rejected
    Column("decided_by", String(100)),
    Column("decided_at", DateTime),
    Column("claimed_by", String(100)),
    Column("lease_token", String(64)),
    Column("lease_expires_at", DateTime),
    Column("last_decision_id", Integer),  # the decision an undo may revert
    Column("skip_count", Integer, nullable=False, default=0),
    Column("created_at", DateTime, nullable=False),
)
Index("ix_items_status_priority", items.c.status, items.c.priority)
Index("ix_items_created_at", items.c.created_at)
Index("ix_items_risk", items.c.risk)
Index("ix_items_claimed_by", items.c.claimed_by)

item_techniques = Table(
    "item_techniques", metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("technique", String(64), primary_key=True),
    Column("strength", Float, nullable=False),
)
Index("ix_item_techniques_technique", item_techniques.c.technique)

decisions = Table(
    "decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("page_id", String(512), nullable=False),
    Column("moderator", String(100), nullable=False),
    Column("action", String(8), nullable=False),  # approve | reject | skip | undo
    Column("techniques", JSON),
    # the lease the decision was made under; unique per item, so a retried request can
    # never record the same decision twice (NULL for undo entries)
    Column("lease_token", String(64)),
    Column("undoes_id", Integer, ForeignKey("decisions.id"), unique=True),
    Column("model_name", String(100)),
    Column("model_version", String(50)),
    Column("risk", Float),
    Column("originality", Float),
    Column("quality", Float),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("item_id", "lease_token", name="uq_decisions_item_lease"),
)
Index("ix_decisions_moderator_id", decisions.c.moderator, decisions.c.id)
Index("ix_decisions_item_id", decisions.c.item_id)

sessions = Table(
    "sessions", metadata,
    Column("id", String(64), primary_key=True),
    Column("moderator_id", Integer, ForeignKey("moderators.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)
Index("ix_sessions_moderator_id", sessions.c.moderator_id)
Index("ix_sessions_expires_at", sessions.c.expires_at)

source_texts = Table(
    "source_texts", metadata,
    Column("source_id", String(512), primary_key=True),
    Column("url", Text),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)


def utcnow() -> datetime:
    """Naive UTC now, the one time convention of every column (see module docstring)."""
    return datetime.now(UTC).replace(tzinfo=None)


def default_db_url() -> str:
    """$FARMSCORE_DB, else a SQLite file in the working directory."""
    return os.environ.get("FARMSCORE_DB") or DEFAULT_DB


def make_engine(db_url: str) -> Engine:
    """An engine for ``db_url``; SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE``.

    Why ``BEGIN IMMEDIATE``: pysqlite otherwise starts a transaction lazily at the first
    write, so a claim (read the best candidate, then update it) can fail with
    ``SQLITE_BUSY`` when two threads upgrade from reader to writer at once. Taking the
    write lock at ``BEGIN`` serialises writers cleanly; the busy timeout makes them wait.
    """
    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    if db_url.startswith("sqlite"):
        engine = create_engine(db_url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below take over
            cur = dbapi_conn.cursor()
            if not db_url.endswith(":memory:") and db_url not in ("sqlite://", "sqlite:///"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(db_url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(db_url: str):
    """Alembic's Config built in code, so no top-level ``alembic.ini`` is needed."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return cfg


def migrate(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (head by default); a no-op when it is there."""
    from alembic import command

    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if isinstance(engine_or_url, str):
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
