"""Cost of cutting an item's text at its evidence spans (the review page), issue 19 item 7.

    python bench/bench_review.py                 # 12,000 spans over a 100,000-character page
    python bench/bench_review.py --ref defb557   # also the moderation/highlight.py of a commit

Prints seconds per ``segments`` call (best of 3). The item page itself now shows at most
500 spans; this measures the function on all of them, as the page did before.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def spans(n: int) -> tuple[str, list[dict]]:
    text = "word " * 20_000
    ev = [{"signal": f"s{i % 7}", "start": 5 * i, "end": 5 * i + 4 + (i % 3) * 5,
           "detail": "likely original: x"} for i in range(n)]
    return text, ev


def best(fn, *args) -> float:
    out = []
    for _ in range(3):
        t = time.perf_counter()
        fn(*args)
        out.append(time.perf_counter() - t)
    return min(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=12_000)
    ap.add_argument("--ref", help="a commit whose moderation/highlight.py to time as well")
    args = ap.parse_args()
    from moderation.highlight import segments

    text, ev = spans(args.spans)
    print(f"command: python bench/bench_review.py --spans {args.spans}" + (f" --ref {args.ref}" if args.ref else ""))
    print(f"this checkout: {best(segments, text, ev):.3f} s for {args.spans:,} spans")
    if args.ref:
        src = subprocess.run(["git", "show", f"{args.ref}:moderation/highlight.py"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        old = sys.modules["old_highlight"] = types.ModuleType("old_highlight")
        exec(compile(src, "old_highlight.py", "exec"), old.__dict__)  # noqa: S102 - our own file
        print(f"{args.ref}: {best(old.segments, text, ev):.3f} s for {args.spans:,} spans")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
