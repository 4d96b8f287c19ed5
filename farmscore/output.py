"""Terminal and JSON output for the CLI."""

from __future__ import annotations

import json
import sys
from typing import IO


def dumps(obj: dict) -> str:
    """One compact JSON line (UTF-8 kept readable, never NaN)."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _short(s: str, n: int) -> str:
    s = str(s)
    return s if len(s) <= n else "…" + s[-(n - 1):]


def format_table(records: list[dict], min_signal: float = 0.3) -> str:
    """A readable table: one row per page, its scores, verdict and strongest signals."""
    head = f"{'page':<34} {'orig':>5} {'qual':>5}  {'verdict':<8} signals"
    rows = [head, "-" * len(head)]
    for r in records:
        pid = _short(r.get("id"), 34)
        if "error" in r:
            rows.append(f"{pid:<34} {'-':>5} {'-':>5}  {'error':<8} {r['error']['code']}: {r['error']['reason']}")
            continue
        sig = sorted(((v, k) for k, v in r["signals"].items() if v >= min_signal), reverse=True)
        sig_s = ", ".join(f"{k} {v:.2f}" for v, k in sig) or "-"
        rows.append(f"{pid:<34} {r['originality']:>5.2f} {r['quality']:>5.2f}  {r['verdict']:<8} {sig_s}")
    if records and "model" in next((r for r in records if "model" in r), {}):
        m = next(r for r in records if "model" in r)["model"]
        rows.append(f"\nmodel: {m['name']} {m['version']}" + (f" ({m['kind']})" if m.get("kind") else ""))
    return "\n".join(rows)


def want_table(stream: IO = sys.stdout, fmt: str | None = None) -> bool:
    """Table on a terminal, JSON when piped, unless ``--format`` says otherwise."""
    if fmt:
        return fmt == "table"
    return bool(getattr(stream, "isatty", lambda: False)())
