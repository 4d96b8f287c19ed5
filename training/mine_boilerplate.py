"""Mine boilerplate templates from the shared data's "without" snippets.

Web pages share their chrome: "Privacy Policy", "Leave a Reply", "Sign up for our
newsletter" occur on hundreds of unrelated sites. The extraction benchmarks in
``../shared/data`` list such snippets per page ("without": text a good extractor must drop).
This script keeps the English ones, normalises them (lower case, letters only), and keeps
those seen on at least ``--min-sites`` different sites, both as whole lines and as 3-6 word
phrases inside lines. A phrase is dropped when it is nearly as common as a line of real
main content (the ``main_content`` of web-extraction-2025), so headings such as "Resources"
or "Key takeaways" do not become boilerplate. Each kept phrase is assigned to a template
family by keyword rules over the phrase (:data:`FAMILY_KEYWORDS`); phrases no rule claims
survive only if they have several words and many sites ("other_boilerplate").

Sites are split by a hash of the host name: one in five (``sha1(host) % 5 == 0``) is held
out and never mined, so ``--eval`` measures recall on boilerplate of unseen sites.

Commands (from the repository root)::

    /tmp/venv/bin/python -m training.mine_boilerplate            # writes models/boilerplate_templates.json
    /tmp/venv/bin/python -m training.mine_boilerplate --eval     # held-out recall + FPR on 1,000 clean originals
    /tmp/venv/bin/python -m training.mine_boilerplate --bench    # ms/article of BoilerplateExtractor

The output holds only short normalised phrases and counts, never page text.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from farmscore.config import data_dir, models_dir
# The extractor's key ("15 Comments" and "Comments:" -> "comments"): one definition keeps
# mined templates and run-time lookups in step.
from features.boilerplate import norm_key

TEMPLATES_VERSION = 1
HOLDOUT_MOD = 5
_LETTERS = re.compile(r"[^\W\d_]+")
_OTHER_LANGS = ("de", "fr", "es", "it", "nl", "pt")

#: Keyword rules that name a mined phrase's family (first match wins). Looser than the
#: extractor's hand patterns: they only label phrases that already recur across sites.
FAMILY_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (fam, re.compile(rx)) for fam, rx in (
        ("legal_nav", r"\b(privacy|cookies?|personal information|rights reserved|copyright|"
                      r"terms of (use|service)|terms and conditions)\b"),
        ("disclaimer", r"\b(disclaimer|disclosure|affiliate|commission|advice|purposes only|"
                       r"third party|endorse|view original|sponsored by|paid partnership)"),
        ("comment_form", r"\b(comments?|reply|replies|responses?|email address will not|"
                         r"required fields|save my name|discussion|post a|be the first)\b"),
        ("photo_credit", r"\b(getty|shutterstock|istock|alamy|unsplash|photo|photos|image credit|"
                         r"photograph|picture credit|courtesy)\b"),
        ("share_subscribe", r"\b(share|subscribe|subscribers?|subscription|newsletters?|follow|"
                            r"sign up for|join our|facebook|twitter|instagram|linkedin|pinterest|"
                            r"youtube|whatsapp|telegram|tiktok|rss|inbox|mailing list|email alerts?)\b"),
        ("spam_link", r"\b(click here|secret link|source link|download now|visit (the )?website)\b"),
        ("legal_nav", r"\b(privacy|cookies?|terms|rights reserved|copyright|skip to|jump to|menu|"
                      r"navigation|home|log ?in|sign ?in|sign ?up|register|contact|about us|"
                      r"accessibility|site ?map|back to top|table of contents|my account|careers|"
                      r"search|personal information|official website|legal|imprint|faq)\b"),
        ("other_boilerplate", r"\b(advertisement|advertis\w*|sponsored|related|recommended|"
                              r"you may also like|you might also like|most (read|popular)|trending|"
                              r"read more|continue reading|recent posts|latest|tags|categories|"
                              r"previous|next|loading|show more|see all|view all)\b"),
    )
)


@dataclass(frozen=True, slots=True)
class Snippet:
    """One "without" snippet with the site it came from."""

    source: str  # "web2025" or "trafilatura"
    site: str
    text: str


def site_of(url: str) -> str:
    """Host name without ``www.``: the unit of the held-out split."""
    host = urlparse(url).netloc.lower()
    return host[4:] if host.startswith("www.") else host


def is_heldout(site: str) -> bool:
    """Stable split by host: one site in ``HOLDOUT_MOD`` is never mined."""
    return int(hashlib.sha1(site.encode()).hexdigest(), 16) % HOLDOUT_MOD == 0


def is_english(text: str, min_share: float = 0.75) -> bool:
    """Most words are at least as frequent in English as in six other web languages.

    The trafilatura snippets are mostly German; a stop-word list misses two-word menu items
    ("Impressum", "Rupture de stock"), word frequencies do not.
    """
    from wordfreq import zipf_frequency

    words = _LETTERS.findall(text.lower())
    if not words:
        return False
    ok = 0
    for w in words:
        en = zipf_frequency(w, "en")
        other = max(zipf_frequency(w, lang) for lang in _OTHER_LANGS)
        ok += en >= 2.5 and en >= other - 0.3
    return ok / len(words) >= min_share


def family_of(phrase: str) -> str | None:
    """The first family whose keywords occur in ``phrase``, else ``None``."""
    for fam, rx in FAMILY_KEYWORDS:
        if rx.search(phrase):
            return fam
    return None


# ---- readers ------------------------------------------------------------------------------
def _web2025_records(root: Path) -> Iterator[dict]:
    for path in sorted(glob.glob(str(root / "web-extraction-2025" / "ground-truth" / "*.json"))):
        with open(path, encoding="utf-8") as fh:
            yield json.load(fh)


def iter_snippets(root: Path | None = None, english_only: bool = True) -> Iterator[Snippet]:
    """Every "without" snippet of both benchmarks, tagged with its site."""
    base = root or data_dir()
    for rec in _web2025_records(base):
        site = site_of(rec.get("url", ""))
        for s in rec.get("ground_truth", {}).get("without") or []:
            if isinstance(s, str) and s.strip() and (not english_only or is_english(s)):
                yield Snippet("web2025", site, s)
    with open(base / "trafilatura-eval" / "evaldata.json", encoding="utf-8") as fh:
        tra = json.load(fh)
    for url, rec in tra.items():
        site = site_of(url)
        for s in rec.get("without") or []:
            if isinstance(s, str) and s.strip() and (not english_only or is_english(s)):
                yield Snippet("trafilatura", site, s)


def iter_main_lines(root: Path | None = None, heldout: bool | None = None) -> Iterator[tuple[str, str]]:
    """(site, line) of web-extraction-2025 main content: the negatives of boilerplate."""
    for rec in _web2025_records(root or data_dir()):
        site = site_of(rec.get("url", ""))
        if heldout is not None and is_heldout(site) != heldout:
            continue
        for line in (rec.get("ground_truth", {}).get("main_content") or "").splitlines():
            if line.strip():
                yield site, line.strip()


# ---- mining -------------------------------------------------------------------------------
def ngrams(words: list[str], lo: int = 3, hi: int = 6) -> Iterator[str]:
    """All contiguous word n-grams of length ``lo``..``hi``."""
    for n in range(lo, min(hi, len(words)) + 1):
        for i in range(len(words) - n + 1):
            yield " ".join(words[i:i + n])


def _sites_by(items: Iterable[tuple[str, Iterable[str]]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for site, keys in items:
        for k in keys:
            out[k].add(site)
    return out


def keep_phrase(phrase: str, bp_sites: int, main_sites: int, min_sites: int,
                max_main_ratio: float) -> str | None:
    """The family of a mined phrase, or ``None`` when it should not become a template.

    Kept when seen on ``min_sites`` sites, much rarer in main content than in boilerplate,
    and either claimed by a keyword family or multi-word and frequent (``other``).
    """
    if bp_sites < min_sites or main_sites > max_main_ratio * bp_sites:
        return None
    fam = family_of(phrase)
    if fam is None and len(phrase.split()) >= 2 and bp_sites >= 2 * min_sites:
        fam = "other_boilerplate"
    return fam


_STOP = frozenset("""a an the and or but nor of to in on at by for from with about into over
this that these those it its is are be was were will not no my our your you we us me i he
she they them his her their here there can may must do does did so as if up out""".split())


def content_words(phrase: str) -> int:
    """Words of ``phrase`` that are not function words."""
    return sum(w not in _STOP for w in phrase.split())


def closed_phrases(phrases: dict[str, int], min_content: int = 2) -> dict[str, int]:
    """Keep phrases with two content words, dropping any contained in a longer kept phrase
    of the same site count (it adds no recall, only a shorter and riskier match)."""
    keys = [k for k in sorted(phrases, key=len, reverse=True) if content_words(k) >= min_content]
    kept: list[str] = []
    for k in keys:
        padded = f" {k} "
        if not any(phrases[m] == phrases[k] and padded in f" {m} " for m in kept):
            kept.append(k)
    return {k: phrases[k] for k in sorted(kept, key=lambda k: (-phrases[k], k))}


def mine(snippets: list[Snippet], main_lines: list[tuple[str, str]], min_sites: int = 2,
         max_main_ratio: float = 0.34, max_line_words: int = 12) -> dict:
    """Templates (whole lines and inner phrases) per family from training snippets."""
    line_sites = _sites_by((s.site, [key]) for s in snippets
                           if 0 < len((key := norm_key(s.text)).split()) <= max_line_words)
    phrase_sites = _sites_by((s.site, set(ngrams(norm_key(s.text).split()))) for s in snippets)
    main_line_sites = _sites_by((site, [norm_key(t)]) for site, t in main_lines)
    main_phrase_sites = _sites_by((site, set(ngrams(norm_key(t).split()))) for site, t in main_lines
                                  if len(t) <= 400)
    fams: dict[str, dict] = defaultdict(lambda: {"lines": {}, "phrases": {}})
    for key, sites in line_sites.items():
        fam = keep_phrase(key, len(sites), len(main_line_sites.get(key, ())), min_sites,
                          max_main_ratio)
        if fam:
            fams[fam]["lines"][key] = len(sites)
    for key, sites in phrase_sites.items():
        if key in line_sites and any(key in f["lines"] for f in fams.values()):
            continue  # already a whole-line template
        fam = keep_phrase(key, len(sites), len(main_phrase_sites.get(key, ())), min_sites + 1,
                          max_main_ratio / 3)
        if fam and fam != "other_boilerplate":  # inner phrases need a family's keyword
            fams[fam]["phrases"][key] = len(sites)
    for v in fams.values():
        v["phrases"] = closed_phrases(v["phrases"])
    families = {f: {"lines": dict(sorted(v["lines"].items(), key=lambda kv: (-kv[1], kv[0]))),
                    "phrases": dict(sorted(v["phrases"].items(), key=lambda kv: (-kv[1], kv[0])))}
                for f, v in sorted(fams.items())}
    return {
        "version": TEMPLATES_VERSION,
        "generated_by": "python -m training.mine_boilerplate",
        "normalisation": "lower case, letters-only words joined by one space (see norm_key)",
        "params": {"min_sites": min_sites, "max_main_ratio": max_main_ratio,
                   "max_line_words": max_line_words,
                   "holdout": f"sha1(host) % {HOLDOUT_MOD} == 0 never mined"},
        "sources": ["trafilatura-eval/evaldata.json without",
                    "web-extraction-2025/ground-truth without (negatives: main_content)"],
        "counts": {"snippets": len(snippets), "sites": len({s.site for s in snippets}),
                   **{f: {"lines": len(v["lines"]), "phrases": len(v["phrases"])}
                      for f, v in families.items()}},
        "families": families,
    }


def write_templates(out: Path | None = None, root: Path | None = None) -> Path:
    """Mine on the training sites and write the JSON the extractor loads."""
    snippets = [s for s in iter_snippets(root) if not is_heldout(s.site)]
    main_lines = list(iter_main_lines(root, heldout=False))
    model = mine(snippets, main_lines)
    path = out or models_dir() / "boilerplate_templates.json"
    path.write_text(json.dumps(model, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# ---- evaluation ---------------------------------------------------------------------------
def spans_of(ext, text: str) -> list:
    """Evidence of ``ext`` on ``text``; text the Document refuses (invisible only) has none."""
    from features.document import Document, InputError

    try:
        return ext.extract(Document.from_text(text)).evidence
    except InputError:
        return []


def evaluate(root: Path | None = None) -> dict:
    """Held-out snippet recall, held-out main-line flag rate, and FPR on clean originals."""
    from features.boilerplate import BoilerplateExtractor
    from training.corpus import clean_originals

    ext = BoilerplateExtractor()
    held = [s for s in iter_snippets(root) if is_heldout(s.site)]
    hit_by_kw: Counter = Counter()
    tot_by_kw: Counter = Counter()
    hits = 0
    for s in held:
        found = bool(spans_of(ext, s.text))
        hits += found
        kw = family_of(norm_key(s.text)) or "(no keyword family)"
        tot_by_kw[kw] += 1
        hit_by_kw[kw] += found
    in_fam = sum(v for k, v in tot_by_kw.items() if k != "(no keyword family)")
    in_fam_hits = sum(v for k, v in hit_by_kw.items() if k != "(no keyword family)")
    main = [t for _, t in iter_main_lines(root, heldout=True)]
    main_flagged = [t for t in main if spans_of(ext, t)]
    arts = clean_originals(1000, root)
    flagged = []
    for a in arts:
        ev = spans_of(ext, a.text)
        if ev:
            flagged.append((a.id, [(e.signal, e.text[:80]) for e in ev]))
    return {
        "heldout_snippets": len(held),
        "heldout_sites": len({s.site for s in held}),
        "recall_all": hits / max(1, len(held)),
        "recall_keyword_families": in_fam_hits / max(1, in_fam),
        "recall_by_keyword_family": {k: f"{hit_by_kw[k]}/{tot_by_kw[k]}"
                                     for k in sorted(tot_by_kw)},
        "heldout_main_lines": len(main),
        "heldout_main_line_flag_rate": len(main_flagged) / max(1, len(main)),
        "heldout_main_flagged_examples": main_flagged[:25],
        "clean_articles": len(arts),
        "clean_fpr": len(flagged) / max(1, len(arts)),
        "clean_flagged": flagged,
    }


def bench(n: int = 1000, repeat: int = 5) -> dict:
    """ms/article of ``extract`` on clean originals (Document built outside the timing)."""
    from features.boilerplate import BoilerplateExtractor
    from features.document import Document
    from training.corpus import clean_originals

    arts = clean_originals(n)
    ext = BoilerplateExtractor()
    ext.extract(Document.from_text(arts[0].text))  # load templates
    best = best_with_doc = float("inf")
    for _ in range(repeat):
        docs = [Document.from_text(a.text) for a in arts]
        t0 = time.perf_counter()
        for d in docs:
            ext.extract(d)
        best = min(best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for a in arts:
            ext.extract(Document.from_text(a.text))
        best_with_doc = min(best_with_doc, time.perf_counter() - t0)
    chars = sum(len(a.text) for a in arts) / len(arts)
    return {"articles": len(arts), "mean_chars": round(chars),
            "ms_per_article_extract": 1000 * best / len(arts),
            "ms_per_article_incl_document_and_lines": 1000 * best_with_doc / len(arts)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--eval", action="store_true", help="held-out recall and clean FPR")
    ap.add_argument("--bench", action="store_true", help="ms/article on 1,000 clean originals")
    args = ap.parse_args(argv)
    if args.eval:
        print(json.dumps(evaluate(), indent=1, ensure_ascii=False))
    elif args.bench:
        print(json.dumps(bench(), indent=1))
    else:
        path = write_templates(args.out)
        print(f"wrote {path}")
        print(json.dumps(json.loads(path.read_text())["counts"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
