"""Alembic environment of the moderation queue.

Run through :func:`moderation.db.migrate` (which passes an open connection in
``config.attributes["connection"]``) or ``farmscore queue migrate``; there is no
top-level ``alembic.ini``. Offline mode (SQL scripts) is supported for DBAs who want to
review the DDL: ``alembic -c moderation/alembic.ini upgrade head --sql``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from moderation.db import metadata

config = context.config
target_metadata = metadata


def run_offline() -> None:
    """Emit SQL instead of running it."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate over the caller's connection when given, else open one from the URL."""
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from moderation.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
