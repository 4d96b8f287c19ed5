"""The moderation queue (issue 7): flagged pages triaged by moderators, decisions as labels.

``create_queue_app(db_url)`` builds the web app (JSON API + HTML pages); ``ModerationQueue``
holds the operations; ``moderation.db`` the tables and Alembic migrations. See
``moderation/service.py`` for the priority formula and the claim/lease protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_queue_app(db_url: str | None = None, scorer: Any = None, **kwargs: Any) -> "FastAPI":
    """See :func:`moderation.app.create_queue_app` (imported lazily: FastAPI is only needed
    by whoever serves the queue, not by the CLI's import/export)."""
    from moderation.app import create_queue_app as _create

    return _create(db_url, scorer, **kwargs)


__all__ = ["create_queue_app"]
