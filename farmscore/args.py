"""Argument parsing shared by every ``farmscore`` command: one-line usage errors, checked
ports, and the one error type a command raises to stop with a message.

Why: the issue-18 rule for the CLI is "every error is one line saying what and how to fix
it, exit status 2, nothing half-made". argparse prints a usage block before its error and a
port of 70000 only failed deep inside uvicorn, with a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class CliError(Exception):
    """A command cannot go on: the message (what went wrong, what to do) is printed on one
    line after ``farmscore COMMAND:`` and the exit status is 2."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (the usage stays in ``--help``);
    sub-parsers inherit the class from ``add_subparsers``."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def port(value: str) -> int:
    """A TCP port for ``--port``: 0-65535 (0 lets the system choose)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number 0-65535, not {value!r}") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, not {n}")
    return n


def bind(host: str, port_: int):
    """A listening socket on (host, port), made before anything is printed as served, so a
    busy port is one line (``CliError``) and not a traceback after the banner. Passed to
    uvicorn (``Server.run(sockets=[...])``), which then serves on exactly this socket."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port_))
    except OSError as exc:
        sock.close()
        hint = "another program is using it; choose another with --port" \
            if exc.errno in (98, 48) else "check --host and --port"
        raise CliError(f"cannot listen on {host}:{port_}: {exc.strerror} ({hint})") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
