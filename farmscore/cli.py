"""The ``farmscore`` command line.

    farmscore features FILE...            features and evidence of each page, as JSON
    farmscore score FILE...               scores: a table on a terminal, JSON Lines when piped
    farmscore score --jsonl IN [-o OUT]   JSONL in ({"id", "text", "url"?}), JSONL out, same order
    farmscore schema [--write]            the feature schema (names, order, version, hash)

Exit status: 0 when every input was scored, 1 when some input was refused (its record
carries an ``error``; the output is still complete, one record per input), 2 on usage
errors and on any error that stops a command (one line on stderr saying what and how to
fix it; ``FARMSCORE_DEBUG=1`` shows the traceback instead).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from farmscore import __version__
from farmscore.args import CliError, Parser
from farmscore.output import dumps, format_table, want_table
from features.base import DEFAULT_MAX_CHARS


def _scorer(args):
    from scoring.score import build_scorer

    return build_scorer(index=args.index, max_chars=args.max_chars, rules=args.rules)


def _read_file(path: str) -> bytes:
    return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()


# ---- features ------------------------------------------------------------------------
def cmd_features(args) -> int:
    from features.document import InputError
    from features.pipeline import FeaturePipeline

    pipe = FeaturePipeline(max_chars=args.max_chars)
    status = 0
    for path in args.files:
        try:
            page = pipe.run(_read_file(path), encoding=args.encoding)
            out = {"id": path, "features": {k: round(v, 6) for k, v in page.features.items()},
                   "evidence": [s.to_dict() for s in page.evidence], "source": page.meta.get("source")}
        except (InputError, OSError) as exc:
            status = 1
            out = {"id": path, "error": _error(exc)}
        print(json.dumps(out, ensure_ascii=False, indent=2 if args.pretty else None))
    return status


def _error(exc: Exception) -> dict:
    from features.document import InputError

    if isinstance(exc, InputError):
        return exc.to_dict()
    return {"code": "io", "reason": str(exc)}


# ---- score ---------------------------------------------------------------------------
def iter_jsonl(stream: Iterator[bytes | str]) -> Iterator[tuple[int, object, object, dict | None]]:
    """(line number, id, text, error) per non-blank line; malformed lines become errors
    (:mod:`farmscore.jsonl`: invalid UTF-8, lone surrogates, NaN, deep nesting)."""
    from farmscore.jsonl import iter_lines, valid_id

    for n, obj, err in iter_lines(stream):
        if err is not None:
            yield n, None, None, err
            continue
        pid = obj.get("id")
        if not valid_id(pid):
            yield n, pid if isinstance(pid, (str, int)) and not isinstance(pid, bool) else None, None, \
                {"code": "field", "reason": f"line {n}: 'id' is required (a string or finite number)"}
            continue
        text, html = obj.get("text"), obj.get("html")
        if text is None and isinstance(html, str):
            # the same record contract as the API: HTML becomes the visible text, chrome and all
            from serving.html import html_to_text

            text = html_to_text(html)
        if not isinstance(text, str):
            yield n, pid, None, {"code": "field",
                                 "reason": f"line {n}: 'text' (or 'html') must be a string"}
            continue
        yield n, pid, text, None


def cmd_score(args) -> int:
    if args.jsonl:
        return _score_jsonl(args)
    if not args.files:
        raise CliError("give FILE... or --jsonl IN (see farmscore score --help)")
    from features.document import InputError

    scorer = _scorer(args)
    records = []
    for path in args.files:
        try:
            rec = scorer.score(_read_file(path), Path(path).name if path != "-" else "-",
                               with_features=args.features, explain=args.explain,
                               encoding=args.encoding)
        except (InputError, OSError) as exc:
            rec = {"id": path, "error": _error(exc)}
        records.append(rec)
    if want_table(sys.stdout, args.format):
        print(format_table(records))
    else:
        for r in records:
            print(dumps(r))
    return 1 if any("error" in r for r in records) else 0


def _score_jsonl(args) -> int:
    # the input, the output and the index are opened before anything is written, so a
    # wrong path stops the run with one line and leaves no output file behind
    src = sys.stdin if args.jsonl == "-" else open(args.jsonl, "rb")
    try:
        t_start = time.perf_counter()
        scorer = _scorer(args)
        out = sys.stdout if args.output in (None, "-") else open(args.output, "w", encoding="utf-8")
    except BaseException:
        if src is not sys.stdin:
            src.close()
        raise
    bar = _progress_bar(args, None if src is sys.stdin else _count_lines(args.jsonl))
    n = errors = 0
    t_first = None  # when the first record was out: the models and tables are loaded lazily
    try:
        for _line, pid, text, err in iter_jsonl(_safe_lines(src)):
            rec = {"id": pid, "error": err} if err else scorer.score_or_error(text, pid, args.features, args.explain)
            errors += "error" in rec
            n += 1
            out.write(dumps(rec) + "\n")
            if t_first is None:
                t_first = time.perf_counter()
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        if out is not sys.stdout:
            out.close()
        if src is not sys.stdin:
            src.close()
    print(f"farmscore: {n} records, {errors} refused, {_rate(n, t_start, t_first)}", file=sys.stderr)
    return 1 if errors else 0


def _rate(n: int, t_start: float, t_first: float | None) -> str:
    """The scoring rate over the records after the first, and the start-up (loading the
    model and tables, and the first record) apart: counted together, a 4-line file read
    "1 pages/s" when the scorer does hundreds."""
    now = time.perf_counter()
    if t_first is None:
        return f"start-up {now - t_start:.1f} s"
    startup = f"start-up {t_first - t_start:.1f} s"
    if n < 2 or now <= t_first:
        return f"{startup}, too few records for a rate"
    return f"{(n - 1) / (now - t_first):.0f} pages/s after {startup}"


def _count_lines(path: str) -> int | None:
    """Lines of a file, for the progress bar's total (a quick pass over its bytes)."""
    try:
        with open(path, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return None


def _progress_bar(args, total: int | None):
    """A tqdm bar on stderr: with ``--progress``, or by default when stderr is a terminal
    and the run lasts more than 2 s (so a short input prints no bar); none with
    ``--no-progress``."""
    if args.progress is False or (args.progress is None and not sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=" pages", file=sys.stderr, dynamic_ncols=True,
                delay=0 if args.progress else 2, mininterval=0.5)


def _safe_lines(stream) -> Iterator[bytes | str]:
    """The byte lines of a stream (decoded and checked line by line in :func:`iter_jsonl`,
    so a line that is not UTF-8 becomes an error record instead of ending the run)."""
    return getattr(stream, "buffer", stream)


# ---- schema ----------------------------------------------------------------------------
def cmd_schema(args) -> int:
    from features.schema import current_schema, write_schema

    if args.write:
        print(f"wrote {write_schema()}", file=sys.stderr)
    print(json.dumps(current_schema().to_dict(), indent=1))
    return 0


# ---- parser ----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="farmscore", description="Content-farm and spam detector.")
    p.add_argument("--version", action="version", version=f"farmscore {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--encoding", default="utf-8", help="encoding of FILE inputs (default utf-8)")
    common.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS,
                        help=f"refuse longer texts (default {DEFAULT_MAX_CHARS:,})")

    f = sub.add_parser("features", parents=[common], help="features and evidence as JSON")
    f.add_argument("files", nargs="+", metavar="FILE", help="text files ('-' for stdin)")
    f.add_argument("--pretty", action="store_true", help="indented JSON")
    f.set_defaults(func=cmd_features)

    s = sub.add_parser("score", parents=[common], help="originality and quality scores")
    s.add_argument("files", nargs="*", metavar="FILE")
    s.add_argument("--jsonl", metavar="IN", help="JSONL input ('-' for stdin)")
    s.add_argument("-o", "--output", metavar="OUT", help="JSONL output file (default stdout)")
    s.add_argument("--format", choices=["table", "jsonl"], help="default: table on a terminal")
    s.add_argument("--json", dest="format", action="store_const", const="jsonl", help="same as --format jsonl")
    s.add_argument("--features", action="store_true", help="include the feature vector")
    s.add_argument("--explain", action="store_true", help="include per-feature contributions")
    s.add_argument("--index", default=os.environ.get("FARMSCORE_INDEX"),
                   help="originality index: a path or redis:// URL (default $FARMSCORE_INDEX)")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="--jsonl: a progress bar on stderr (default: when stderr is a terminal "
                        "and the run lasts over 2 s)")
    s.add_argument("--rules", action="store_true",
                   help="score with the transparent rule baseline instead of the shipped model")
    s.set_defaults(func=cmd_score)

    sc = sub.add_parser("schema", help="the feature schema")
    sc.add_argument("--write", action="store_true", help="freeze it into models/feature_schema.json")
    sc.set_defaults(func=cmd_schema)

    from farmscore.commands import register_all

    register_all(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every error a command does not turn into records of its own is one
    line on stderr (what, and what to do) with exit status 2: never a traceback
    (``FARMSCORE_DEBUG=1`` shows it for a bug report)."""
    args = build_parser().parse_args(argv)
    name = "farmscore " + " ".join(
        v for v in (args.command, getattr(args, "index_action", None),
                    getattr(args, "queue_action", None)) if v)
    try:
        return args.func(args)
    except BrokenPipeError:  # `farmscore score ... | head`
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place errors become a line
        if os.environ.get("FARMSCORE_DEBUG"):
            raise
        print(f"{name}: {describe_error(exc)}", file=sys.stderr)
        return 2


def describe_error(exc: Exception) -> str:
    """One line for an error that stopped a command: what failed and how to fix it."""
    from originality.errors import IndexError_

    if isinstance(exc, CliError):
        return str(exc)
    if isinstance(exc, IndexError_):  # a corrupt, missing or foreign index
        return f"originality index: {exc} (build one with `farmscore index add`)"
    if isinstance(exc, OSError):
        what = f"{exc.filename}: " if exc.filename else ""
        return f"{what}{exc.strerror or exc} (check the path and its permissions)"
    if type(exc).__module__.startswith("sqlalchemy"):  # not imported here: `score` never needs it
        orig = getattr(exc, "orig", None) or exc
        first = (str(orig).splitlines() or [type(orig).__name__])[0][:300]
        return f"the database cannot be used: {first} (check --db or $FARMSCORE_DB)"
    first = (str(exc).splitlines() or [""])[0][:300]
    return (f"unexpected {type(exc).__name__}: {first} "
            "(a bug: please report it with the output of FARMSCORE_DEBUG=1)")


if __name__ == "__main__":
    raise SystemExit(main())
