"""``farmscore index add --jsonl FILE [--index PATH]``: add reference pages to the index.

One JSON object a line: ``{"id", "text", "url"?, "published"?}``. Bad lines (malformed
JSON, missing id or text, empty text, an id already indexed with another text) are
reported with their line number and skipped; everything else is added in atomic batches,
so an interrupted run loses at most the batch in flight and never what was indexed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from typing import TextIO

DEFAULT_INDEX = "farmscore-index"
BATCH = 500


def default_index() -> str:
    """$FARMSCORE_INDEX, else ``farmscore-index/`` in the working directory."""
    return os.environ.get("FARMSCORE_INDEX") or DEFAULT_INDEX


def register(subparsers) -> None:
    """Add the ``index`` command (with its ``add`` action) to a CLI's subparsers."""
    p = subparsers.add_parser("index", help="manage the index of seen pages (originality)")
    actions = p.add_subparsers(dest="index_action", required=True)
    add = actions.add_parser("add", help="add reference pages from a JSONL file")
    add.add_argument("--jsonl", required=True,
                     help='file with one {"id","text","url"?,"published"?} a line ("-": stdin)')
    add.add_argument("--index", default=None,
                     help=f"index directory or redis:// URL (default $FARMSCORE_INDEX or "
                          f"./{DEFAULT_INDEX}/)")
    add.add_argument("--batch", type=int, default=BATCH, help="pages per atomic write")
    add.set_defaults(func=run_add)


def read_jsonl(fh, errors: list[tuple[int, str]]) -> Iterator[tuple[int, dict]]:
    """(line number, record) for every parseable line of a byte (or text) stream; bad lines
    (malformed JSON, invalid UTF-8, lone surrogates, deep nesting) go to ``errors`` and
    reading goes on (:mod:`farmscore.jsonl`)."""
    from farmscore.jsonl import iter_lines

    for lineno, rec, err in iter_lines(fh):
        if err is not None:
            errors.append((lineno, err["reason"].split(": ", 1)[1]))
            continue
        yield lineno, rec


def _flush(index, batch: list[tuple[int, dict]], totals: dict, errors: list) -> None:
    res = index.add([rec for _, rec in batch], strict=False)
    totals["added"] += res.added
    totals["duplicates"] += res.duplicates
    errors.extend((batch[pos][0], msg) for pos, msg in res.errors)
    batch.clear()


def run_add(args: argparse.Namespace, stderr: TextIO | None = None) -> int:
    """Exit code 0 when every line was added or already there, 1 when some were skipped,
    2 when the index or the file could not be opened."""
    from farmscore.jsonl import open_input
    from originality import IndexError_, open_index

    err = stderr or sys.stderr
    location = args.index or default_index()
    # the input first: a missing file must not leave a new, empty index directory behind
    fh = open_input(args.jsonl, "index add", err)
    if fh is None:
        return 2
    try:
        index = open_index(location, create=True)
    except IndexError_ as exc:
        if fh is not sys.stdin.buffer:
            fh.close()
        print(f"farmscore index add: {exc}", file=err)
        return 2
    errors: list[tuple[int, str]] = []
    totals = {"added": 0, "duplicates": 0}
    t0 = time.monotonic()
    last_report = t0
    try:
        batch: list[tuple[int, dict]] = []
        for lineno, rec in read_jsonl(fh, errors):
            batch.append((lineno, rec))
            if len(batch) >= max(1, args.batch):
                _flush(index, batch, totals, errors)
                if time.monotonic() - last_report >= 5:  # progress every 5 s
                    last_report = time.monotonic()
                    done = totals["added"] + totals["duplicates"]
                    print(f"  {done:,} pages processed, {len(errors):,} errors "
                          f"({last_report - t0:.0f} s)", file=err)
        if batch:
            _flush(index, batch, totals, errors)
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
    for lineno, msg in sorted(errors):
        print(f"  line {lineno}: {msg}", file=err)
    total = len(index)
    index.close()
    print(f"farmscore index: added {totals['added']:,}, skipped duplicates "
          f"{totals['duplicates']:,}, errors {len(errors):,}; {total:,} pages in {location} "
          f"({time.monotonic() - t0:.1f} s)", file=err)
    return 1 if errors else 0
