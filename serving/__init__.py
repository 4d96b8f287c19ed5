"""The scoring API (FastAPI): ``create_app()`` builds it; ``farmscore serve`` runs it.

Serving loads the shipped model through :mod:`scoring` and never imports :mod:`training`
(the farm simulator and training code are not part of a deployment).
"""

from __future__ import annotations


def create_app(settings=None):
    """Build the app (imported lazily so ``import serving`` stays cheap)."""
    from serving.app import create_app as _create

    return _create(settings)


__all__ = ["create_app"]
