"""One JSON Lines reader for every command that reads records (``score --jsonl``, ``queue
import``, ``index add``): a bad line becomes an error, never the end of the run.

Why one reader: each command had its own, and each lost a run differently (a non-UTF-8
byte ended ``index add`` and dropped the batch in flight; a NaN or lone-surrogate id ended
``score --jsonl`` when its record was written; deep nesting raised ``RecursionError``).
Lines are read as bytes and parsed with orjson, which is strict where the standard library
is lenient: invalid UTF-8, lone surrogates (``"\\ud800"``), ``NaN``/``Infinity`` and nesting
deeper than 1,024 are all malformed JSON, reported with the line number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import orjson


def parse_line(raw: bytes | str, lineno: int) -> tuple[dict | None, dict | None]:
    """(object, None) for a line holding a JSON object, else (None, error) where error is
    ``{"code", "reason"}`` (codes ``encoding``, ``json``, ``type``); (None, None) when blank."""
    if isinstance(raw, str):
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            return None, {"code": "encoding", "reason": f"line {lineno}: lone surrogate at "
                                                        f"character {exc.start}; not Unicode text"}
    if not raw.strip():
        return None, None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, {"code": "encoding",
                      "reason": f"line {lineno}: not valid UTF-8 at byte {exc.start}"}
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, {"code": "json", "reason": f"line {lineno}: malformed JSON ({exc})"}
    if not isinstance(obj, dict):
        return None, {"code": "type",
                      "reason": f"line {lineno}: expected a JSON object, got {type(obj).__name__}"}
    return obj, None


def iter_lines(lines: Iterable[bytes | str]) -> Iterator[tuple[int, dict | None, dict | None]]:
    """(line number, object, error) for every non-blank line of a byte (or text) stream."""
    for n, raw in enumerate(lines, 1):
        obj, err = parse_line(raw, n)
        if obj is None and err is None:
            continue
        yield n, obj, err


def valid_id(pid: Any) -> bool:
    """A record id: a non-empty string or a finite number, never a boolean (``true`` is
    not an id: ``str(True)`` would silently become one)."""
    if isinstance(pid, bool) or pid is None:
        return False
    if isinstance(pid, str):
        return pid.strip() != ""
    if isinstance(pid, float):
        return math.isfinite(pid)
    return isinstance(pid, int)


def binary_lines(stream) -> Iterable[bytes]:
    """The byte lines of a file object or text stream (``sys.stdin`` gives its buffer)."""
    return getattr(stream, "buffer", stream)


def open_input(path: str, command: str, err) -> Any | None:
    """The JSON Lines input ``path`` opened for bytes (``-``: standard input), or ``None``
    after a one-line error on ``err``. Commands open their input before they create an index
    or a database, so a missing file leaves nothing half-made behind."""
    import sys

    try:
        return sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as exc:
        print(f"farmscore {command}: cannot read {path}: {exc.strerror} "
              "(check the path of --jsonl)", file=err)
        return None
