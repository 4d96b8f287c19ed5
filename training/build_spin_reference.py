"""Build ``models/spin_reference.npz``: everything the spinning detector needs to score.

Run (from the repository root, a few minutes on one core)::

    apt-get install wordnet-base          # WordNet 3.0 under /usr/share/wordnet (build only)
    python -m training.build_spin_reference [--out models/spin_reference.npz]

What goes in (all derived statistics; no article text is stored):

* ``vocab``/``zipf``/``count``: words and two-word thesaurus phrases, their ``wordfreq``
  Zipf frequency and their count in the reference corpora;
* ``bg_a``/``bg_b``/``bg_c``: lower-case word-pair (bigram) counts >= 2 from the reference
  corpora, never across sentence punctuation (see ``features.spinning.tokenize``);
* ``syn_*``: the thesaurus, observed form -> possible original forms with a strength
  (1 = WordNet synset mates / similar adjectives / closed-class groups, 2 = co-hyponyms
  and direct hypernyms of nouns, which spinners also use), inflected (plural, -s, -ed, -ing);
* ``names``: capitalised names of 3-7 words seen at least twice ("Center for Strategic
  and International Studies"), to repair names a spinner broke;
* ``tortured``: half of the Problematic Paper Screener tortured -> expected pairs (the
  other half, chosen by a hash of the phrase, is kept out for ``training.eval_spinning``).

Reference corpora: BBC News (unique articles), Reuters-21578 bodies, the human articles of
human-vs-chatgpt-news, MRPC sentences and the main content of web-extraction-2025 pages.
**Held out** (never counted): the evaluation set of 500 originals and a development set of
300 used to set thresholds, both chosen by :func:`split_of` (rank of ``sha1("spin:" + id)``
within each source, 250 + 250 and 150 + 150 for BBC and Reuters >= 150 words), plus every
Reuters story whose body is an exact copy of a held-out one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

from farmscore.config import data_dir, models_dir
from features.spinning import (REFERENCE_NAME, capitalised_runs, case_observations,
                               is_capitalised, lm_key, tokenize)
from training.corpus import Article, bbc_articles, hvc_records, reuters_articles

WORDNET_DIR = Path("/usr/share/wordnet")
EVAL_PER_SOURCE = 250
DEV_PER_SOURCE = 150
MIN_BIGRAM = 2
MIN_NAME = 2
MAX_TARGETS = 40

#: Closed-class words WordNet does not list (it has no modal verbs). Spinners swap them
#: like any other word, and a modal homograph turns the month "May" into "Could".
CLOSED_CLASS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("can", "could", "may", "might"),
    ("will", "would", "shall"),
    ("should", "must"),
)


# ---- held-out split ---------------------------------------------------------------------
def _rank_key(article_id: str) -> str:
    return hashlib.sha1(f"spin:{article_id}".encode()).hexdigest()


@lru_cache(maxsize=1)
def _splits() -> dict[str, str]:
    bbc = bbc_articles()
    reu = list(reuters_articles(min_words=150))
    out: dict[str, str] = {}
    for arts in (bbc, reu):
        ranked = sorted(arts, key=lambda a: _rank_key(a.id))
        for a in ranked[:EVAL_PER_SOURCE]:
            out[a.id] = "eval"
        for a in ranked[EVAL_PER_SOURCE:EVAL_PER_SOURCE + DEV_PER_SOURCE]:
            out[a.id] = "dev"
    return out


def split_of(article_id: str) -> str:
    """'eval' (500 held-out originals), 'dev' (300, for thresholds) or 'train'."""
    return _splits().get(article_id, "train")


def held_out_articles(split: str = "eval") -> list[Article]:
    """The BBC + Reuters originals of a held-out split, in a fixed order."""
    ids = {k for k, v in _splits().items() if v == split}
    arts = [a for a in bbc_articles() if a.id in ids]
    arts += [a for a in reuters_articles(min_words=150) if a.id in ids]
    return sorted(arts, key=lambda a: (a.source, _rank_key(a.id)))


def tortured_split(phrase: str) -> str:
    """'train' (compiled into the reference) or 'eval' (kept out), by a hash of the phrase."""
    return "train" if int(hashlib.sha1(phrase.encode()).hexdigest(), 16) % 2 == 0 else "eval"


def tortured_pairs(root: Path | None = None) -> list[tuple[str, str]]:
    path = (root or data_dir()) / "tortured-phrases" / "tortured-phrases.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for p in data["phrases"]:
        bad = " ".join(p["tortured"].lower().split())
        good = " ".join(p["correct"].lower().split())
        if bad and good and bad != good:
            out.append((bad, good))
    return out


# ---- reference texts --------------------------------------------------------------------
_STOP_EN = frozenset("the of and to in a is that for it on with as was be by are this".split())


def _looks_english(text: str) -> bool:
    words = re.findall(r"[a-z]+", text.lower()[:3000])
    return len(words) > 30 and sum(w in _STOP_EN for w in words) / len(words) > 0.15


def reference_texts() -> Iterator[str]:
    """Every text counted into the reference (held-out originals excluded).

    No BBC article is counted: the model (``training.dataset``) trains and calibrates on
    BBC originals, and a page whose word pairs the reference has counted looks cleaner to
    the spinning features than any unseen page ever will, so a model trained on such pages
    would flag unseen clean pages. With BBC out, training pages and the pages farmscore
    scores in the wild are equally new to the reference.
    """
    root = data_dir()
    held_bodies = {hashlib.sha1(a.body.encode()).hexdigest()
                   for s in ("eval", "dev") for a in held_out_articles(s)}
    for a in reuters_articles():
        if split_of(a.id) == "train" and hashlib.sha1(a.body.encode()).hexdigest() not in held_bodies:
            yield a.body  # Reuters titles are upper case: they would teach wrong capitals
    for r in hvc_records("human"):
        yield r.get("text") or ""
    for name in ("msr_paraphrase_train.txt", "msr_paraphrase_test.txt"):
        path = root / "mrpc" / name
        seen: set[str] = set()
        for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]:
            cols = line.split("\t")
            for sent in cols[3:5]:
                if sent not in seen:
                    seen.add(sent)
                    yield sent
    for path in sorted((root / "web-extraction-2025" / "ground-truth").glob("*.json")):
        gt = json.loads(path.read_text(encoding="utf-8")).get("ground_truth") or {}
        text = gt.get("main_content") or ""
        if _looks_english(text):
            yield text


# ---- counting -----------------------------------------------------------------------------
def count_text(text: str, uni: Counter, bi: Counter, names: Counter, caps: Counter,
               mids: Counter, next_caps: Counter, nexts: Counter) -> None:
    """Add one text's unigrams, bigrams, capitalisation and names (3-7 words) to counters."""
    toks = tokenize(text)
    words = [t[2] for t in toks]
    keys = [lm_key(w) for w in words]
    breaks = [t[3] for t in toks]
    uni.update(keys)
    for i in range(1, len(toks)):
        if not breaks[i]:
            bi[(keys[i - 1], keys[i])] += 1
    case = case_observations(toks, text)
    for i, (k, obs) in enumerate(zip(keys, case)):
        if obs >= 0:
            mids[k] += 1
            caps[k] += obs
            if i and not breaks[i]:
                nexts[keys[i - 1]] += 1
                next_caps[keys[i - 1]] += obs
    for run in capitalised_runs(words, breaks):
        run_words = [words[i] for i in run]
        n = len(run_words)
        for s in range(n):
            if not is_capitalised(run_words[s]):
                continue
            for e in range(s + 3, min(n, s + 7) + 1):
                if is_capitalised(run_words[e - 1]):
                    names[" ".join(run_words[s:e])] += 1


# ---- WordNet ------------------------------------------------------------------------------
def read_wordnet(root: Path = WORDNET_DIR) -> dict[tuple[str, str], tuple[list[str], list]]:
    """(pos, offset) -> (lemmas, pointers) from the WordNet 3.0 ``data.*`` files."""
    syn: dict[tuple[str, str], tuple[list[str], list]] = {}
    for pos, name in (("n", "noun"), ("v", "verb"), ("a", "adj"), ("r", "adv")):
        with open(root / f"data.{name}", encoding="latin-1") as fh:
            for line in fh:
                if line.startswith("  "):
                    continue
                head = line.split(" | ")[0].split()
                off, ss, wc = head[0], head[2], int(head[3], 16)
                words = [re.sub(r"\(.*\)$", "", head[4 + 2 * i]) for i in range(wc)]
                k = 4 + 2 * wc
                ptrs = []
                for i in range(int(head[k])):
                    sym, o, p, _st = head[k + 1 + 4 * i:k + 5 + 4 * i]
                    ptrs.append((sym, ("a" if p in "as" else p, o)))
                syn[("a" if ss in "as" else ss, off)] = (words, ptrs)
    return syn


def read_exceptions(root: Path = WORDNET_DIR) -> dict[str, dict[str, list[str]]]:
    """pos -> base -> irregular inflected forms (noun.exc, verb.exc)."""
    out: dict[str, dict[str, list[str]]] = {}
    for pos, name in (("n", "noun"), ("v", "verb")):
        table: dict[str, list[str]] = defaultdict(list)
        for line in (root / f"{name}.exc").read_text(encoding="latin-1").splitlines():
            parts = line.split()
            if len(parts) >= 2:
                table[parts[1]].append(parts[0])
        out[pos] = table
    return out


def _plural(w: str) -> str:
    """Plural (or third-person -s) of a regular word: the spinner's own rule."""
    from training.spinner import _suffix_s

    return _suffix_s(w)


def _past(w: str) -> str:
    if w.endswith("e"):
        return w + "d"
    if re.search(r"[^aeiou]y$", w):
        return w[:-1] + "ied"
    return w + "ed"


def _ing(w: str) -> str:
    if w.endswith("e") and not w.endswith("ee"):
        return w[:-1] + "ing"
    return w + "ing"


def inflections(lemma: str, pos: str, exc: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    """Slot -> form of a (possibly multi-word) lemma; the head word is inflected."""
    words = lemma.split(" ")
    head_i = len(words) - 1 if pos == "n" else 0
    head = words[head_i]

    def put(form: str) -> str:
        return " ".join(words[:head_i] + [form] + words[head_i + 1:])

    forms = {"base": lemma}
    if pos == "n":
        irregular = exc["n"].get(head)
        forms["pl"] = put(irregular[0] if irregular else _plural(head))
    elif pos == "v":
        irregular = exc["v"].get(head, [])  # e.g. take -> took, taken
        forms["3sg"] = put(_plural(head))
        forms["past"] = put(irregular[0] if irregular else _past(head))
        forms["ing"] = put(_ing(head))
        if len(irregular) > 1:
            forms["pp"] = put(irregular[1])
    return forms


def _language_synsets(syn) -> set[tuple[str, str]]:
    """Noun synsets under 'natural language' (Chinese, French, ...)."""
    roots = {k for k, (ws, _) in syn.items() if k[0] == "n" and "natural_language" in ws}
    hypo: dict = defaultdict(list)
    for k, (_, ptrs) in syn.items():
        for sym, k2 in ptrs:
            if sym in ("@", "@i"):
                hypo[k2].append(k)
    out, stack = set(), list(roots)
    while stack:
        k = stack.pop()
        if k in out:
            continue
        out.add(k)
        stack.extend(hypo.get(k, []))
    return out


def thesaurus_pairs(syn) -> dict[tuple[str, str, str], int]:
    """(pos, lemma_a, lemma_b) -> strength (1 strong, 2 weak), both directions."""
    pairs: dict[tuple[str, str, str], int] = {}

    def add(pos: str, a: str, b: str, s: int) -> None:
        a, b = a.lower().replace("_", " "), b.lower().replace("_", " ")
        if a == b or len(a.split()) > 3 or len(b.split()) > 3:
            return
        for x, y in ((a, b), (b, a)):
            k = (pos, x, y)
            pairs[k] = min(s, pairs.get(k, 9))

    hyponyms: dict = defaultdict(list)
    for k, (_, ptrs) in syn.items():
        for sym, k2 in ptrs:
            if sym == "@":
                hyponyms[k2].append(k)
    for k, (ws, ptrs) in syn.items():
        pos = k[0]
        for i, a in enumerate(ws):
            for b in ws[i + 1:]:
                add(pos, a, b, 1)
        for sym, k2 in ptrs:
            if k2 not in syn:
                continue
            other = syn[k2][0]
            if pos == "a" and sym == "&":
                for a in ws:
                    for b in other:
                        add(pos, a, b, 1)
            elif pos == "a" and sym == "^":
                for a in ws:
                    for b in other:
                        add(pos, a, b, 2)
            elif pos in "nv" and sym == "@":
                for a in ws:
                    for b in other:
                        add(pos, a, b, 2)
                sisters = hyponyms.get(k2, [])
                if len(sisters) <= 25:
                    for k3 in sisters:
                        if k3 != k:
                            for a in ws:
                                for b in syn[k3][0]:
                                    add(pos, a, b, 2)
    for k in _language_synsets(syn):
        for w in syn[k][0]:
            if "_" not in w and w[:1].isupper():
                add("n", w, f"{w} language", 1)
                add("a", w, f"{w} language", 1)
    for group in CLOSED_CLASS_GROUPS:
        for a in group:
            for b in group:
                add("x", a, b, 1)
    return pairs


def surface_thesaurus(pairs: dict[tuple[str, str, str], int], exc, zipf) -> dict[str, dict[str, int]]:
    """Observed surface form -> {original surface form: strength}, inflection matched."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for (pos, a, b), s in pairs.items():
        if zipf(b) < 2.3 or zipf(a) < 0.5 and " " not in a:
            continue
        fa = inflections(a, pos, exc) if pos in "nv" else {"base": a}
        fb = inflections(b, pos, exc) if pos in "nv" else {"base": b}
        for slot, x in fa.items():
            y = fb.get(slot)
            if y is None or x == y:
                continue
            if slot != "base" and (zipf(x) < 1.0 or zipf(y) < 2.0):
                continue
            prev = out[x].get(y, 9)
            out[x][y] = min(prev, s)
    trimmed: dict[str, dict[str, int]] = {}
    for x, targets in out.items():
        best = sorted(targets.items(), key=lambda kv: (kv[1], -zipf(kv[0])))[:MAX_TARGETS]
        trimmed[x] = dict(best)
    return trimmed


# ---- assembling ---------------------------------------------------------------------------
def build(out: Path, verbose: bool = True) -> dict:
    from wordfreq import zipf_frequency

    t0 = time.time()
    log = (lambda *a: print(f"[{time.time() - t0:6.1f}s]", *a, file=sys.stderr)) if verbose \
        else (lambda *a: None)

    @lru_cache(maxsize=None)
    def zipf(w: str) -> float:
        return zipf_frequency(w, "en")

    uni: Counter = Counter()
    bi: Counter = Counter()
    names: Counter = Counter()
    caps: Counter = Counter()
    mids: Counter = Counter()
    next_caps: Counter = Counter()
    nexts: Counter = Counter()
    n_texts = 0
    for text in reference_texts():
        count_text(text, uni, bi, names, caps, mids, next_caps, nexts)
        n_texts += 1
    log(f"{n_texts} texts, {sum(uni.values()):,} tokens, {len(bi):,} bigram types")

    syn = read_wordnet()
    exc = read_exceptions()
    pairs = thesaurus_pairs(syn)
    log(f"{len(pairs):,} thesaurus lemma pairs")
    thes = surface_thesaurus(pairs, exc, zipf)
    log(f"{len(thes):,} thesaurus surface keys")

    words: list[str] = []
    vocab: dict[str, int] = {}

    def wid(w: str) -> int:
        i = vocab.get(w)
        if i is None:
            i = vocab[w] = len(words)
            words.append(w)
        return i

    for w, c in uni.most_common():
        if c >= MIN_BIGRAM:
            wid(w)
    syn_keys, syn_ptr, syn_idx, syn_s = [], [0], [], []
    for x in sorted(thes):
        targets = thes[x]
        # a single-word observed form must be a word the page can contain; phrases are
        # looked up only as two adjacent tokens
        if len(x.split()) > 2:
            continue
        syn_keys.append(wid(x))
        for y, s in targets.items():
            for part in y.split(" "):
                wid(part)
            syn_idx.append(wid(y))
            syn_s.append(s)
        syn_ptr.append(len(syn_idx))
    for w in list(words):
        if " " in w:
            for part in w.split(" "):
                wid(part)
    log(f"vocabulary {len(words):,}")

    continuations: Counter = Counter(a for a, _b in bi)
    bg = [(vocab[a], vocab[b], min(c, 65535)) for (a, b), c in bi.items()
          if c >= MIN_BIGRAM and a in vocab and b in vocab]
    bg.sort()
    kept_names = sorted(n for n, c in names.items() if c >= MIN_NAME)
    log(f"{len(bg):,} bigrams >= {MIN_BIGRAM}, {len(kept_names):,} names")

    tort = [(b, g) for b, g in tortured_pairs() if tortured_split(b) == "train"]
    meta = {
        "built": time.strftime("%Y-%m-%d"),
        "texts": n_texts, "tokens": int(sum(uni.values())),
        "bigrams": len(bg), "names": len(kept_names), "tortured": len(tort),
        "thesaurus_keys": len(syn_keys), "vocab": len(words),
        "held_out": "sha1('spin:'+id) rank per source: 250+250 eval, 150+150 dev "
                    "(BBC unique, Reuters >= 150 words) + copies of their bodies",
        "sources": "Reuters-21578 (no BBC: the model trains on it), human-vs-chatgpt human, MRPC, web-extraction-2025; "
                   "wordfreq 3.x unigrams; WordNet 3.0 (wordnet-base)",
    }

    def blob(lines: Iterable[str]) -> np.ndarray:
        return np.frombuffer("\n".join(lines).encode("utf-8"), dtype=np.uint8)

    arr = np.asarray(bg, dtype=np.int64).reshape(-1, 3)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        vocab=blob(words),
        zipf=np.asarray([round(zipf(w) * 10) for w in words], dtype=np.uint8),
        count=np.asarray([uni.get(w, 0) for w in words], dtype=np.uint32),
        # P(capitalised | word, mid-sentence), lightly smoothed towards lower case
        cap=np.asarray([min(0.995, max(0.002, (caps.get(w, 0) + 0.05) / (mids.get(w, 0) + 1.0)))
                        for w in words], dtype=np.float16),
        # P(next word capitalised | word), mid-sentence: "Chinese President", not
        # "language President"
        next_cap=np.asarray([min(0.995, max(0.002, (next_caps.get(w, 0) + 0.05)
                                            / (nexts.get(w, 0) + 1.0))) for w in words],
                            dtype=np.float16),
        # distinct right neighbours (all counts): the back-off mass of absolute discounting
        cont=np.asarray([continuations.get(w, 0) for w in words], dtype=np.uint32),
        bg_a=arr[:, 0].astype(np.int32), bg_b=arr[:, 1].astype(np.int32),
        bg_c=arr[:, 2].astype(np.uint16),
        syn_key=np.asarray(syn_keys, dtype=np.int32),
        syn_ptr=np.asarray(syn_ptr, dtype=np.int32),
        syn_idx=np.asarray(syn_idx, dtype=np.int32),
        syn_s=np.asarray(syn_s, dtype=np.uint8),
        names=blob(kept_names),
        tortured=blob(f"{b}\t{g}" for b, g in tort),
        meta=blob([json.dumps(meta)]),
    )
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return meta


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=models_dir() / REFERENCE_NAME)
    args = ap.parse_args(argv)
    print(json.dumps(build(args.out), indent=2))


if __name__ == "__main__":
    main()
