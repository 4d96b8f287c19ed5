"""Sub-commands of the ``farmscore`` CLI that live in their own modules.

Each module exposes ``register(subparsers)``; ``register_all`` adds those that exist.
"""

from __future__ import annotations

import importlib

MODULES = ("index", "model", "queue", "serve", "demo", "batch")


def register_all(sub) -> None:
    for name in MODULES:
        try:
            mod = importlib.import_module(f"farmscore.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"farmscore.commands.{name}":
                continue
            raise
        mod.register(sub)
