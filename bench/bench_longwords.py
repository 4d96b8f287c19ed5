"""Cost and memory of pages of long distinct words (issue 19 item 1), in one process.

    python bench/bench_longwords.py                 # 15 pages of 5,000 distinct 20-60-letter words
    python bench/bench_longwords.py --pages 30

Each page is new words only (the attack: textstat's hyphenator caches every word forever
and costs ~18 us per character of a new word). Prints CPU seconds per page (text
statistics alone, then the whole scorer on one page) and resident memory before and after.
Run it on a checkout before a change to compare (the numbers in the README were taken that
way: `git show defb557:features/textstats.py > features/textstats.py`, run, restore).
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from features.document import Document  # noqa: E402
from features.textstats import TextStatsExtractor  # noqa: E402


def page(rng: random.Random, words: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(20, 60)))
                    for _ in range(words))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=15)
    ap.add_argument("--words", type=int, default=5000)
    args = ap.parse_args()
    rng = random.Random(19)
    proc = psutil.Process()
    ex = TextStatsExtractor()
    ex.extract(Document.from_text("Warm up the syllable counter with a short page."))
    rss0 = proc.memory_info().rss / 2**20
    cpu = []
    for _ in range(args.pages):
        doc = Document.from_text(page(rng, args.words))
        t = time.process_time()
        ex.extract(doc)
        cpu.append(time.process_time() - t)
    rss1 = proc.memory_info().rss / 2**20
    print(f"command: python bench/bench_longwords.py --pages {args.pages} --words {args.words}")
    print(f"text statistics: {sum(cpu) / len(cpu):.3f} s CPU per page (max {max(cpu):.3f}); "
          f"RSS {rss0:,.0f} MB -> {rss1:,.0f} MB ({rss1 - rss0:+,.0f} MB over {args.pages} pages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
