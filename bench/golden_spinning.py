"""Golden outputs of ``SpinningExtractor.extract``: record them, then check a change against them.

    python bench/golden_spinning.py --write /tmp/spin_golden.json.gz [--n-bbc 1500 --n-reuters 1500]
    python bench/golden_spinning.py --check /tmp/spin_golden.json.gz [--shuffle]

The page set (built once, at ``--write``, and stored in the file with the outputs, so a
check never depends on the spinner, WordNet or the data set staying as they are):

* the seed pages in ``seeds/``;
* the first ``--n-bbc`` unique BBC articles and the first ``--n-reuters`` Reuters
  articles of >= 50 words (``training.corpus``);
* a spun version of each of those pages (``training.spinner``: the farm
  simulator's default spinner at 10-40 %, and on some pages a sloppy one with phrases and
  one that picks the most frequent synonym);
* tortured phrases (``shared/data/tortured-phrases``) alone, in a template sentence and
  packed into paragraphs, and BBC articles with tortured phrases pasted in;
* a few edge cases (one word, title-case lines, all caps, odd punctuation).

Per page it records every feature as an exact float (``float.hex``) and every evidence
span as (signal, start, end, text, detail). ``--check`` recomputes all pages in a fresh
process (``--shuffle``: in a random order, so per-process caches fill differently) and
reports the number of pages that differ, showing the first few differences.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from farmscore.config import data_dir  # noqa: E402
from features.document import Document  # noqa: E402
from features.spinning import SpinningExtractor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _edge_cases() -> list[str]:
    return [
        "word", "Two words", "...", "A.", "May", "in May",
        "TRADE WAR LOOMS AS CHINA AND UNITED STATES CLASH OVER TARIFFS\n\nThe talks failed.",
        "Trade Strains Before Summit In The White Home\n\nThe White Home said on Tuesday.",
        "The White Home said, Trade commerce warfare — \"in Could\" (Chinese language "
        "President) [uncommon earth] … ’tis • bullet\n- dash - item\n1990s 3rd 4.5%",
        "Ünïcödé wörds çafé naïve “quoted” ‘single’ «guillemets»日本語 текст",
        "the " * 300,
        "White Home " * 50,
        "Chinese language President Chinese language President said in Could that the "
        "commerce warfare would go on.",
    ]


def _tortured_pages(rng: random.Random, bbc: list[str]) -> list[str]:
    path = data_dir() / "tortured-phrases" / "tortured-phrases.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    pairs = [(p["tortured"], p["correct"]) for p in data["phrases"]
             if p.get("tortured") and p.get("correct")]
    pages = []
    template = "In this paper we describe the {} used in our work."
    for bad, good in pairs[:300]:
        pages += [bad, template.format(bad), template.format(good)]
    # paragraphs packed with tortured phrases, in sentences and in lists
    for k in range(200):
        sample = rng.sample(pairs, 12)
        sents = [f"We used the {b} to study the {rng.choice(pairs)[0]}." for b, _ in sample]
        pages.append(" ".join(sents) + "\n\n" + ", ".join(b for b, _ in sample[:6]))
        pages.append("\n".join(b.title() if k % 2 else b.upper() for b, _ in sample))
    # real articles with tortured phrases pasted in after some sentences
    for t in bbc[:200]:
        parts = t.split(". ")
        for _ in range(3):
            j = rng.randrange(len(parts))
            parts[j] = parts[j] + f" in the {rng.choice(pairs)[0]}"
        pages.append(". ".join(parts))
    return pages


def build_pages(n_bbc: int, n_reuters: int, seed: int = 0) -> list[tuple[str, str]]:
    """(label, text) of every page of the golden set."""
    from training.corpus import bbc_articles, reuters_articles
    from training.spinner import Spinner

    rng = random.Random(seed)
    pages: list[tuple[str, str]] = []
    for p in sorted((ROOT / "seeds").glob("*.txt")):
        pages.append((f"seed/{p.name}", p.read_text(encoding="utf-8")))
    bbc = [a.text for a in bbc_articles()][:n_bbc]
    reuters = []
    for a in reuters_articles(min_words=50):
        reuters.append(a.text)
        if len(reuters) >= n_reuters:
            break
    pages += [(f"bbc/{i}", t) for i, t in enumerate(bbc)]
    pages += [(f"reuters/{i}", t) for i, t in enumerate(reuters)]
    spinners = {"default": Spinner().fit(),
                "sloppy": Spinner(senses=8, phrases=True, min_zipf=1.5).fit(),
                "frequent": Spinner(senses=1, choice="frequent").fit()}
    for name, texts in (("bbc", bbc), ("reuters", reuters)):
        for i, t in enumerate(texts):
            kind = ("default", "default", "sloppy", "frequent")[i % 4]
            rate = rng.choice([0.1, 0.2, 0.3, 0.4])
            s = rng.randrange(1 << 30)
            pages.append((f"spun-{kind}-{rate}/{name}/{i}",
                          spinners[kind].spin(t, rate=rate, seed=s).text))
    pages += [(f"tortured/{i}", t) for i, t in enumerate(_tortured_pages(rng, bbc))]
    pages += [(f"edge/{i}", t) for i, t in enumerate(_edge_cases())]
    return pages


def run_page(ex: SpinningExtractor, text: str) -> dict:
    res = ex.extract(Document.from_text(text))
    return {"features": {k: float(v).hex() for k, v in res.features.items()},
            "evidence": [[s.signal, s.start, s.end, s.text, s.detail] for s in res.evidence]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="FILE")
    mode.add_argument("--check", metavar="FILE")
    ap.add_argument("--n-bbc", type=int, default=1500)
    ap.add_argument("--n-reuters", type=int, default=1500)
    ap.add_argument("--shuffle", action="store_true",
                    help="check the pages in a random order (cache-order independence)")
    ap.add_argument("--show", type=int, default=5, help="differences shown")
    ap.add_argument("--reference", action="store_true",
                    help="decode with the Python reference instead of the compiled code")
    args = ap.parse_args(argv)
    if args.reference:
        import features.spinning as spinning

        spinning._USE_COMPILED = False
    ex = SpinningExtractor()
    if args.write:
        t0 = time.perf_counter()
        pages = build_pages(args.n_bbc, args.n_reuters)
        print(f"built {len(pages)} pages in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        rows = [{"label": label, "text": text, **run_page(ex, text)} for label, text in pages]
        print(f"extracted in {time.perf_counter() - t0:.1f} s; "
              f"{sum(len(r['evidence']) for r in rows)} spans")
        with gzip.open(args.write, "wt", encoding="utf-8") as f:
            json.dump(rows, f, ensure_ascii=False)
        print(f"wrote {args.write}")
        return 0
    with gzip.open(args.check, "rt", encoding="utf-8") as f:
        rows = json.load(f)
    order = list(range(len(rows)))
    if args.shuffle:
        random.Random(1).shuffle(order)
    t0 = time.perf_counter()
    got = {}
    for k in order:
        got[k] = run_page(ex, rows[k]["text"])
    elapsed = time.perf_counter() - t0
    bad = 0
    for k, r in enumerate(rows):
        g = got[k]
        if g["features"] != r["features"] or g["evidence"] != r["evidence"]:
            bad += 1
            if bad <= args.show:
                print(f"DIFF {r['label']}:")
                for name, v in r["features"].items():
                    if g["features"].get(name) != v:
                        print(f"  {name}: {float.fromhex(v)!r} -> "
                              f"{float.fromhex(g['features'][name])!r}")
                want = {tuple(e) for e in r["evidence"]}
                have = {tuple(e) for e in g["evidence"]}
                for e in sorted(want - have):
                    print(f"  - {e}")
                for e in sorted(have - want):
                    print(f"  + {e}")
                if want == have and g["evidence"] != r["evidence"]:
                    print("  (same spans, different order)")
    n_spans = sum(len(r["evidence"]) for r in rows)
    print(f"checked {len(rows)} pages ({n_spans} spans) in {elapsed:.1f} s: "
          f"{bad} pages differ")
    try:  # compiled code: one signature per function means nothing compiled per page
        from features import spin_lattice
        sigs = {name: len(getattr(spin_lattice, name).signatures)
                for name in ("tokens", "columns", "find_sites", "decode_runs", "page_codes",
                             "add_words", "link_words", "decode_page")}
        print(f"compiled signatures: {sigs}")
    except ImportError:
        pass
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
