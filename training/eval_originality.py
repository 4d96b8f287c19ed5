"""Evaluate the originality index on real rewrites and on simulated farm copies.

    python -m training.eval_originality [--n-bbc 1000] [--backend local|redis]

(a) human-vs-chatgpt-news: the 54 human articles are indexed; each GPT-3.5 *rephrasing*
    (``source`` starts with "rephrase") should name the human article with the same
    ``title_en`` first (recall@1). The GPT *generated_* pages were written from the title
    alone, so any match for them is a false match.
(b) BBC: all 2,127 unique articles indexed; 1,000 of them copied (verbatim body with a
    farm header and a "You may also like" tail) and spun (20% of content words); each
    copy/spin should name its article first. False matches: the other BBC articles, each
    queried with its own id excluded (BBC reuses its own paragraphs, so matches are split
    into those backed by a shared 12-word passage and those not), and Reuters articles
    (1987; nothing in the index can be their source).

Prints a markdown table. Spins come from ``training.spinner.spin`` (WordNet synonyms) when
that module exists, else from a local perturbation (20% of content words replaced by
random corpus words); the table says which.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import tempfile
import time
import uuid

from originality import open_index
from training.corpus import bbc_articles, hvc_records, reuters_articles


def spinner():
    """(name, spin(text, rate, seed)): the project spinner if present, else a perturbation."""
    try:
        from training.spinner import spin

        return "training.spinner.spin (WordNet synonyms)", spin
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        from originality.fingerprints import stop_words

        stops = stop_words()
        vocab = [w for a in bbc_articles()[:300] for w in a.body.split() if w.isalpha()]

        def perturb(text: str, rate: float, seed: int) -> str:
            rng = random.Random(seed)
            return " ".join(rng.choice(vocab) if (w.isalpha() and w.islower() and w not in stops
                                                  and rng.random() < rate) else w
                            for w in text.split(" "))

        return "local perturbation (random word substitution)", perturb


def shares_passage(a: str, b: str, n: int = 12) -> bool:
    """Do two texts share ``n`` consecutive words (verbatim reuse, checked independently)?"""
    wa, wb = re.findall(r"\w+", a.lower()), re.findall(r"\w+", b.lower())
    grams = {tuple(wb[i:i + n]) for i in range(len(wb) - n + 1)}
    return any(tuple(wa[i:i + n]) in grams for i in range(len(wa) - n + 1))


def new_location(backend: str) -> tuple[str, callable]:
    if backend == "redis":
        loc = f"redis://127.0.0.1:6379/0?prefix=farmscore-eval:{uuid.uuid4().hex[:8]}"
        return loc, lambda idx: idx.store.drop()
    d = tempfile.mkdtemp(prefix="farmscore-eval-")
    return d, lambda idx: shutil.rmtree(d, ignore_errors=True)


def rate(k: int, n: int) -> str:
    return f"{k}/{n} = {k / n:.1%}" if n else "n/a"


def eval_hvc(backend: str) -> list[tuple[str, str]]:
    human, gpt = hvc_records("human"), hvc_records("chatgpt")
    loc, cleanup = new_location(backend)
    index = open_index(loc)
    index.add([{"id": f"hvc-human/{i}", "text": r["text"], "published": r.get("date") or None}
               for i, r in enumerate(human)], strict=False)
    title_of = {f"hvc-human/{i}": r["title_en"] for i, r in enumerate(human)}
    reph = [r for r in gpt if r["source"].startswith("rephrase")]
    gen = [r for r in gpt if r["source"].startswith("generated")]
    at1 = 0
    by_method: dict[str, int] = {}
    for r in reph:
        m = index.query(r["text"])
        if m and title_of[m[0].id] == r["title_en"]:
            at1 += 1
            by_method[m[0].method] = by_method.get(m[0].method, 0) + 1
    false_gen = sum(bool(index.query(r["text"])) for r in gen)
    cleanup(index)
    index.close()
    return [("hvc: GPT rephrasings, recall@1 of the human original", rate(at1, len(reph))
             + f" (by method: {by_method})"),
            ("hvc: GPT pages generated from the title only, false matches",
             rate(false_gen, len(gen)))]


def eval_bbc(backend: str, n: int, seed: int = 7) -> list[tuple[str, str]]:
    arts = bbc_articles()
    name, spin = spinner()
    loc, cleanup = new_location(backend)
    index = open_index(loc)
    t = time.perf_counter()
    index.add([{"id": a.id, "text": a.text} for a in arts])
    build = time.perf_counter() - t
    rng = random.Random(seed)
    picked = rng.sample(range(len(arts)), n)
    picked_set = set(picked)
    titles = [a.title for a in arts]
    rows: list[tuple[str, str]] = []
    for kind in ("copy", "spin"):
        at1 = anywhere = 0
        for i in picked:
            a = arts[i]
            if kind == "copy":
                tail = "\n".join(rng.sample(titles, 3))
                q = f"Breaking | {a.title}\n\n{a.body}\n\nYou may also like\n\n{tail}"
            else:
                q = spin(a.text, 0.2, i)
            m = index.query(q)
            at1 += bool(m) and m[0].id == a.id
            anywhere += any(x.id == a.id for x in m)
        rows.append((f"BBC {kind} ({name if kind == 'spin' else 'verbatim + header + tail'}),"
                     " recall@1", rate(at1, n) + f"; source among matches: {rate(anywhere, n)}"))
    clean = [a for i, a in enumerate(arts) if i not in picked_set]
    by_id = {a.id: a for a in arts}
    matched = unexplained = 0
    for a in clean:
        m = index.query(a.text, page_id=a.id)
        if m:
            matched += 1
            unexplained += not all(shares_passage(a.text, by_id[x.id].text) for x in m)
    rows.append(("BBC clean articles (own id excluded), any match", rate(matched, len(clean))))
    rows.append(("BBC clean articles, a match without a shared 12-word passage (false)",
                 rate(unexplained, len(clean))))
    reu = list(reuters_articles(min_words=150))
    reu = random.Random(seed).sample(reu, min(1000, len(reu)))
    false_reu = sum(bool(index.query(a.text)) for a in reu)
    rows.append(("Reuters articles (nothing indexed can be their source), false matches",
                 rate(false_reu, len(reu))))
    rows.append(("BBC index build (2,127 pages)", f"{build:.1f} s"))
    cleanup(index)
    index.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-bbc", type=int, default=1000)
    ap.add_argument("--backend", choices=["local", "redis"], default="local")
    args = ap.parse_args(argv)
    rows = eval_hvc(args.backend) + eval_bbc(args.backend, args.n_bbc)
    print(f"| measure ({args.backend} backend) | result |")
    print("|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
