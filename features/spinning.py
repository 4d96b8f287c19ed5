"""Synonym-spinning detection on the page alone, phrase by phrase, with the likely original.

Article spinners swap words for thesaurus synonyms ("trade war" -> "commerce warfare",
"White House" -> "White Home", "in May" -> "in Could"). The swapped text is rarely
ungrammatical, so a grammar check misses it; what gives it away is that it sits one
synonym away from a common phrase. This module is a small noisy-channel decoder:

* a bigram language model of real English (corpus bigram counts from news and web text,
  Dirichlet-smoothed with ``wordfreq`` unigram probabilities) scores word sequences;
* a thesaurus (WordNet 3.0 synonyms, inflected, plus a few closed-class groups WordNet
  lacks, such as modal verbs) proposes, for each suspicious word, the words a spinner
  could have replaced;
* a Viterbi search over short runs of suspicious words picks the most likely original;
  a swap costs ``swap_cost`` nats (the prior that a spinner touched the word), so a
  phrase is flagged only when the original is far more likely *in this context* and a
  reference bigram backs it (``min_pair_count``);
* long capitalised names (``Heart for Strategic and Worldwide Research``) are matched
  against known names from the reference corpora and against other names on the page;
* known tortured phrases (Problematic Paper Screener) are looked up directly.

Everything scoring needs lives in one compact file, ``models/spin_reference.npz``
(built by ``training/build_spin_reference.py``); it is loaded lazily once per process.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from farmscore.config import models_dir
from features.base import Extraction, Span
from features.document import WORD_RE, Document

REFERENCE_NAME = "spin_reference.npz"

# ---- tokenisation shared by the reference builder and the extractor ----------------------
# A bigram never spans punctuation that ends a clause, quotes, brackets or a line break.
_BREAK_RE = re.compile(r"[.,;:!?()\[\]{}\"“”«»|\n•…–—]|\s-\s")
_DIGIT_RE = re.compile(r"\d")
_SENT_RE = re.compile(r"[.!?\n:\"“‘•]")
#: Lower-case connectors allowed inside a capitalised name ("Center for ... and ...").
NAME_CONNECTORS = frozenset({"of", "for", "and", "the", "de", "on", "in", "&"})


def lm_key(word: str) -> str:
    """The language-model form of a token: lower case, straight apostrophe, digits -> '#'."""
    if _DIGIT_RE.search(word):
        return "#"
    return word.lower().replace("’", "'")


def tokenize(text: str) -> list[tuple[int, int, str, bool, bool]]:
    """(start, end, word, break_before, sentence_start) for every word.

    The break flag is what keeps "... said, Trade ..." from counting as the pair
    "said trade"; ``sentence_start`` marks words whose capital letter says nothing.
    """
    out: list[tuple[int, int, str, bool, bool]] = []
    prev_end = -1
    for m in WORD_RE.finditer(text):
        s, e = m.span()
        if prev_end < 0:
            brk = sent = True
        else:
            gap = text[prev_end:s]
            if gap == " ":
                brk = sent = False
            else:
                brk = bool(_BREAK_RE.search(gap))
                sent = brk and bool(_SENT_RE.search(gap))
        out.append((s, e, m.group(), brk, sent))
        prev_end = e
    return out


def case_observations(toks: list[tuple[int, int, str, bool, bool]], text: str) -> list[int]:
    """Per word: 1 capitalised mid-sentence, 0 lower case, -1 unknown.

    Capitals carry information only mid-sentence and outside title-case lines
    ("Trade Strains Before Summit"), where every word is capitalised.
    """
    out = [-1] * len(toks)
    line: list[int] = []

    def flush() -> None:
        content = [i for i in line if toks[i][2] not in NAME_CONNECTORS]
        caps = sum(1 for i in content if toks[i][2][:1].isupper())
        title = len(content) >= 3 and caps >= 0.6 * len(content)
        for i in line:
            w = toks[i][2]
            if toks[i][4] or title or not w[:1].isalpha():
                continue
            out[i] = 1 if w[:1].isupper() else 0
        line.clear()

    prev_end = 0
    for i, t in enumerate(toks):
        if line and "\n" in text[prev_end:t[0]]:
            flush()
        line.append(i)
        prev_end = t[1]
    flush()
    return out


def is_capitalised(word: str) -> bool:
    """Title-case or all-caps word that starts with a letter (a name part)."""
    return word[:1].isupper()


# ---- the reference file -----------------------------------------------------------------
@dataclass
class SpinReference:
    """The decoded reference: vocabulary, counts, thesaurus, known names, tortured phrases."""

    vocab: dict[str, int]
    words: list[str]
    logp_uni: np.ndarray          # natural-log unigram probability (wordfreq), per vocab id
    count: np.ndarray             # corpus unigram counts, per vocab id
    bigram: dict[int, int]        # a * V + b -> corpus count (count >= 2)
    syn: dict[int, tuple[tuple[int, int], ...]]   # observed id -> ((original id, strength), ..)
    zipf: np.ndarray              # wordfreq zipf per vocab id (float32)
    names_by_anchor: dict[tuple, list[tuple[str, ...]]]   # (skeleton, k, token) -> names
    known_names: frozenset        # lower-case tuples of known names (len >= 3)
    tortured: dict[str, list[tuple[tuple[str, ...], str]]]  # first word -> (tokens, correct)
    meta: dict

    @property
    def size(self) -> int:
        return len(self.words)


_LOCK = threading.Lock()
_CACHE: dict[str, SpinReference] = {}


def reference_path() -> Path:
    return models_dir() / REFERENCE_NAME


def _split_lines(arr: np.ndarray) -> list[str]:
    return bytes(arr).decode("utf-8").split("\n") if len(arr) else []


def skeleton(tokens: tuple[str, ...]) -> str:
    """Shape of a name: connectors kept, other words as 'C' ("C for C and C C")."""
    return " ".join(t if t in NAME_CONNECTORS else "C" for t in tokens)


def load_reference(path: Path | None = None) -> SpinReference:
    """Load (once per process and path) the compact reference built by the training script."""
    path = Path(path or reference_path())
    key = str(path)
    ref = _CACHE.get(key)
    if ref is not None:
        return ref
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _decode(np.load(path, allow_pickle=False))
        return _CACHE[key]


def _decode(z) -> SpinReference:
    words = _split_lines(z["vocab"])
    vocab = {w: i for i, w in enumerate(words)}
    V = len(words)
    zipf = z["zipf"].astype(np.float32) / 10.0
    # wordfreq's zipf is log10(frequency per billion words); floor unseen words at zipf 1.
    logp = (np.maximum(zipf, 1.0) - 9.0) * math.log(10.0)
    a = z["bg_a"].astype(np.int64)
    b = z["bg_b"].astype(np.int64)
    bigram = dict(zip((a * V + b).tolist(), z["bg_c"].tolist()))
    ptr = z["syn_ptr"].tolist()
    idx = z["syn_idx"].tolist()
    strength = z["syn_s"].tolist()
    keys = z["syn_key"].tolist()
    syn = {k: tuple(zip(idx[ptr[n]:ptr[n + 1]], strength[ptr[n]:ptr[n + 1]]))
           for n, k in enumerate(keys)}
    names_lines = _split_lines(z["names"])
    names_by_anchor: dict[tuple, list[tuple[str, ...]]] = {}
    known: set[tuple[str, ...]] = set()
    for line in names_lines:
        toks = tuple(line.split(" "))
        low = tuple(t.lower() for t in toks)
        known.add(low)
        sk = skeleton(low)
        for k, t in enumerate(low):
            if t not in NAME_CONNECTORS:
                names_by_anchor.setdefault((sk, k, t), []).append(toks)
    tortured: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for line in _split_lines(z["tortured"]):
        if "\t" not in line:
            continue
        bad, good = line.split("\t", 1)
        toks = tuple(bad.split(" "))
        tortured.setdefault(toks[0], []).append((toks, good))
    return SpinReference(
        vocab=vocab, words=words, logp_uni=logp.astype(np.float64), count=z["count"],
        bigram=bigram, syn=syn, zipf=zipf, names_by_anchor=names_by_anchor,
        known_names=frozenset(known), tortured=tortured,
        meta=json.loads(bytes(z["meta"]).decode("utf-8")),
    )


# ---- per-process caches derived from the reference ---------------------------------------
@dataclass
class _Tables:
    """Plain-Python views of the reference for one ``min_pair_count`` (fast lookups)."""

    count: list[int]
    logp: list[float]
    p: list[float]
    right_of: dict[int, set[int]]   # a -> {b : count(a b) >= min_pair_count}
    left_of: dict[int, set[int]]    # b -> {a : count(a b) >= min_pair_count}
    targets: dict[int, tuple]       # id -> (single-word target set, strengths, multi-word)
    strong: dict[int, frozenset[int]]
    gap: dict[int, float]           # id -> zipf(best strong synonym) - zipf(id)


_TABLES: dict[tuple[int, int], _Tables] = {}


def _tables(ref: SpinReference, min_pair_count: int) -> _Tables:
    key = (id(ref), min_pair_count)
    t = _TABLES.get(key)
    if t is not None:
        return t
    with _LOCK:
        if key in _TABLES:
            return _TABLES[key]
        V = len(ref.words)
        right_of: dict[int, set[int]] = {}
        left_of: dict[int, set[int]] = {}
        for k, c in ref.bigram.items():
            if c >= min_pair_count:
                a, b = divmod(k, V)
                right_of.setdefault(a, set()).add(b)
                left_of.setdefault(b, set()).add(a)
        logp = ref.logp_uni.tolist()
        t = _Tables(count=ref.count.tolist(), logp=logp, p=np.exp(ref.logp_uni).tolist(),
                    right_of=right_of, left_of=left_of, targets={}, strong={}, gap={})
        _TABLES[key] = t
        return t


def capitalised_runs(words: list[str], breaks: list[bool]) -> list[list[int]]:
    """Maximal runs of capitalised words (lower-case connectors allowed inside), >= 2 words."""
    runs: list[list[int]] = []
    run: list[int] = []

    def close() -> None:
        while run and not is_capitalised(words[run[-1]]):
            run.pop()
        if len(run) >= 2:
            runs.append(list(run))
        run.clear()

    for i, w in enumerate(words):
        if breaks[i] and run:
            close()
        if w[:1].isupper() and not _DIGIT_RE.search(w):
            run.append(i)
        elif run and w in NAME_CONNECTORS:
            run.append(i)
        elif run:
            close()
    close()
    return runs


def _match_case(observed: list[str], original: str) -> str:
    """Give the proposed original the capitalisation pattern of the observed words."""
    if len(observed) > 1 and all(w.isupper() and len(w) > 1 for w in observed):
        return original.upper()
    out = original.split(" ")
    if len(observed) > 1 and all(is_capitalised(w) or w in NAME_CONNECTORS for w in observed):
        return " ".join(w if w in NAME_CONNECTORS else w[:1].upper() + w[1:] for w in out)
    if is_capitalised(observed[0]):
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


@dataclass(frozen=True, slots=True)
class _Option:
    """One reading of tokens [start, end): the observed words or a proposed original."""

    start: int
    end: int
    first: int
    last: int
    inner: float        # score inside a multi-word reading
    cost: float         # swap cost (0 for the observed reading)
    target: int         # vocab id of the proposed original (-1 for the observed word)


class SpinningExtractor:
    """Find synonym-spun phrases and propose the likely original (see module docstring).

    Thresholds (natural-log units, "nats", or counts):

    * ``swap_cost``: prior cost of assuming a spinner replaced a word by a WordNet synset
      mate; a phrase is flagged only when the proposed original fits its neighbours better
      by more than this. ``weak_swap_cost`` is the same for looser relations (co-hyponyms,
      hypernyms), which are riskier.
    * ``unigram_weight``: how much plain word frequency counts beside fit with neighbours
      (0 = only association with neighbours; 1 = a full bigram language model, which
      would call every rare but correct word spun).
    * ``min_pair_count``: the original must form a reference bigram seen at least this often
      with a neighbour: evidence of a real phrase, not just a more frequent word.
    * ``suspicious_max_count``: a word is examined only if a bigram it forms is seen at most
      this often (common pairs are not spun; this also keeps scoring fast).
    * ``smoothing``: Dirichlet prior mass of the bigram model.
    * ``max_free_name_swaps``: non-synonym differences tolerated when a long capitalised
      name (>= 5 words) otherwise matches a known name.
    * ``score_scale``: flagged phrases per 100 words at which ``spin_score`` reaches 0.63.
    """

    family: ClassVar[str] = "spinning"
    FEATURES: ClassVar[tuple[str, ...]] = (
        "spin_phrases_per_100w",
        "spin_phrase_count",
        "spin_word_frac",
        "spin_names_per_100w",
        "spin_tortured_per_100w",
        "spin_rare_synonym_frac",
        "spin_gain_per_100w",
        "spin_score",
    )

    def __init__(self, swap_cost: float = 6.0, weak_swap_cost: float = 9.0,
                 unigram_weight: float = 0.3, min_pair_count: int = 3,
                 suspicious_max_count: int = 2, smoothing: float = 500.0,
                 max_options: int = 6, max_free_name_swaps: int = 1,
                 score_scale: float = 1.0, reference_path: str | None = None):
        self.swap_cost = swap_cost
        self.weak_swap_cost = weak_swap_cost
        self.unigram_weight = unigram_weight
        self.min_pair_count = min_pair_count
        self.suspicious_max_count = suspicious_max_count
        self.smoothing = smoothing
        self.max_options = max_options
        self.max_free_name_swaps = max_free_name_swaps
        self.score_scale = score_scale
        self.reference_path = reference_path

    # ---- public ---------------------------------------------------------------------
    def extract(self, doc: Document) -> Extraction:
        ref = load_reference(Path(self.reference_path) if self.reference_path else None)
        tab = _tables(ref, self.min_pair_count)
        toks = doc._cache.get("spin_tokens")
        if toks is None:
            toks = doc._cache["spin_tokens"] = tokenize(doc.norm)
        words = [t[2] for t in toks]
        keys = [lm_key(w) for w in words]
        breaks = [t[3] for t in toks]
        vocab = ref.vocab
        ids = [vocab.get(k, -1) for k in keys]
        ctx = _Context(ref, tab, toks, words, keys, ids, breaks)
        lm_spans, gain = self._decode(ctx)
        name_spans = self._names(ctx)
        tort_spans = self._tortured(ctx)
        norm = doc.norm
        spans = [Span(s.signal, s.start, s.end, norm[s.start:s.end], s.detail)
                 for s in _merge(name_spans + tort_spans + lm_spans)]
        return Extraction(features=self._features(ctx, spans, gain), evidence=spans)

    def _features(self, ctx: "_Context", spans: list[Span], gain: float) -> dict[str, float]:
        n = max(len(ctx.words), 1)
        per100 = 100.0 / n
        covered = sum(len(WORD_RE.findall(s.text)) for s in spans)
        n_names = sum(1 for s in spans if "name" in s.detail)
        n_tort = sum(1 for s in spans if "tortured" in s.detail)
        rate = len(spans) * per100
        return {
            "spin_phrases_per_100w": rate,
            "spin_phrase_count": float(min(len(spans), 50)),
            "spin_word_frac": min(1.0, covered / n),
            "spin_names_per_100w": n_names * per100,
            "spin_tortured_per_100w": n_tort * per100,
            "spin_rare_synonym_frac": _rare_synonym_frac(ctx),
            "spin_gain_per_100w": gain * per100,
            "spin_score": 1.0 - math.exp(-rate / self.score_scale),
        }

    # ---- bigram model -----------------------------------------------------------------
    def _emit(self, ctx: "_Context", a: int, b: int) -> float:
        """Score of word ``b`` after ``a``: log P(b|a) minus most of log P(b).

        Subtracting ``(1 - unigram_weight) * log P(b)`` turns the language model into
        association with the neighbour, so a rare-but-correct word is not called spun
        merely for being rare.
        """
        t = ctx.tab
        if b < 0:
            return -12.0
        lpb = t.logp[b]
        if a < 0:
            return self.unigram_weight * lpb
        c = ctx.bigram.get(a * ctx.V + b, 0)
        k = self.smoothing
        return math.log((c + k * t.p[b]) / (t.count[a] + k)) - (1.0 - self.unigram_weight) * lpb

    def _targets(self, ctx: "_Context", wid: int) -> tuple:
        """(single-word target ids, {id: strength}, multi-word options) for an observed id."""
        tab = ctx.tab
        got = tab.targets.get(wid)
        if got is None:
            ref = ctx.ref
            single: set[int] = set()
            strength: dict[int, int] = {}
            multi = []
            for tid, s in ref.syn.get(wid, ()):
                w = ref.words[tid]
                strength[tid] = s
                if " " in w:
                    pids = [ref.vocab.get(x, -1) for x in w.split(" ")]
                    if min(pids) < 0:
                        continue
                    inner = sum(self._emit(ctx, x, y) for x, y in zip(pids, pids[1:]))
                    multi.append((tid, s, pids[0], pids[-1], inner))
                else:
                    single.add(tid)
            got = tab.targets[wid] = (frozenset(single), strength, tuple(multi))
        return got

    def _options(self, ctx: "_Context", wid: int, L: int, R: int, i: int, j: int) -> list[_Option]:
        """Proposed originals for tokens [i, j) that form a frequent bigram with a neighbour."""
        single, strength, multi = self._targets(ctx, wid)
        tab = ctx.tab
        hits: set[int] = set()
        if L >= 0:
            ro = tab.right_of.get(L)
            if ro:
                hits = single & ro
        if R >= 0:
            lo = tab.left_of.get(R)
            if lo:
                hits = hits | (single & lo) if hits else single & lo
        cands = []
        cnt = ctx.cnt
        for tid in hits:
            ev = max(cnt(L, tid), cnt(tid, R))
            cands.append((ev, tid, tid, tid, 0.0, strength[tid]))
        m = self.min_pair_count
        for tid, s, first, last, inner in multi:
            ev = max(cnt(L, first), cnt(last, R))
            if ev >= m:
                cands.append((ev, tid, first, last, inner, s))
        if not cands:
            return []
        cands.sort(key=lambda x: -x[0])
        out = []
        for ev, tid, first, last, inner, s in cands[: self.max_options]:
            cost = self.swap_cost if s == 1 else self.weak_swap_cost
            out.append(_Option(i, j, first, last, inner, cost, tid))
        return out

    def _decode(self, ctx: "_Context") -> tuple[list[Span], float]:
        """Viterbi over runs of suspicious words; flagged spans and their total gain."""
        ids, keys, breaks = ctx.ids, ctx.keys, ctx.breaks
        syn = ctx.ref.syn
        vocab = ctx.ref.vocab
        n = len(ids)
        susp = self.suspicious_max_count
        cnt = ctx.cnt
        left = [-1] * (n + 1)          # count of the bigram ending at i (-1 after a break)
        for i in range(1, n):
            if not breaks[i]:
                left[i] = cnt(ids[i - 1], ids[i])
        options: dict[int, list[_Option]] = {}
        for i in range(n):
            wid = ids[i]
            if wid < 0:
                continue
            lc, rc = left[i], left[i + 1]
            L = ids[i - 1] if lc >= 0 else -1
            if wid in syn and (0 <= lc <= susp or 0 <= rc <= susp):
                R = ids[i + 1] if rc >= 0 else -1
                opts = self._options(ctx, wid, L, R, i, i + 1)
                if opts:
                    options[i] = opts
            # two words read as one original ("Chinese language" -> "Chinese")
            if rc >= 0 and i + 2 <= n:
                r2 = left[i + 2]
                if 0 <= r2 <= susp:
                    pid = vocab.get(keys[i] + " " + keys[i + 1], -1)
                    if pid >= 0 and pid in syn:
                        R = ids[i + 2] if r2 >= 0 else -1
                        opts = self._options(ctx, pid, L, R, i, i + 2)
                        if opts:
                            options.setdefault(i, []).extend(opts)
        if not options:
            return [], 0.0
        spans: list[Span] = []
        total = 0.0
        for p, q in _runs(options, breaks):
            found, g = self._viterbi(ctx, options, p, q)
            spans.extend(found)
            total += g
        return spans, total

    def _viterbi(self, ctx: "_Context", options: dict[int, list[_Option]], p: int, q: int):
        """Best reading of tokens [p, q) given their neighbours; flagged spans and gain."""
        ids, breaks = ctx.ids, ctx.breaks
        emit = self._emit
        L = ids[p - 1] if p > 0 and not breaks[p] else -1
        R = ids[q] if q < len(ids) and not breaks[q] else -1
        best: dict[int, dict[int, tuple[float, tuple | None]]] = {p: {L: (0.0, None)}}
        for i in range(p, q):
            states = best.get(i)
            if not states:
                continue
            edges = [_Option(i, i + 1, ids[i], ids[i], 0.0, 0.0, -1)] + options.get(i, [])
            for o in edges:
                if o.end > q:
                    continue
                tgt = best.setdefault(o.end, {})
                base = o.inner - o.cost
                for last, (sc, _bp) in states.items():
                    s = sc + emit(ctx, last, o.first) + base
                    cur = tgt.get(o.last)
                    if cur is None or s > cur[0]:
                        tgt[o.last] = (s, (i, last, o))
        end_states = best.get(q)
        if not end_states:
            return [], 0.0
        final = {last: sc + (emit(ctx, last, R) if R >= 0 else 0.0)
                 for last, (sc, _) in end_states.items()}
        last = max(final, key=final.get)
        observed = self._observed_score(ctx, L, R, p, q)
        gain = final[last] - observed
        if gain <= 0:
            return [], 0.0
        path: list[_Option] = []
        node = q
        while node != p:
            _sc, bp = best[node][last]
            i, prev_last, o = bp
            path.append(o)
            node, last = i, prev_last
        path.reverse()
        return self._spans_of(ctx, path, L, R, gain), gain

    def _spans_of(self, ctx: "_Context", path: list[_Option], L: int, R: int,
                  gain: float) -> list[Span]:
        """Group consecutive swapped readings of a decoded run into evidence spans."""
        out = []
        cnt = ctx.cnt
        k = 0
        while k < len(path):
            if path[k].target < 0:
                k += 1
                continue
            g = k
            while g + 1 < len(path) and path[g + 1].target >= 0:
                g += 1
            group = path[k:g + 1]
            prev_id = path[k - 1].last if k > 0 else L
            next_id = path[g + 1].first if g + 1 < len(path) else R
            ev = max(cnt(prev_id, group[0].first), cnt(group[-1].last, next_id),
                     max((cnt(a.last, b.first) for a, b in zip(group, group[1:])), default=0))
            if ev >= self.min_pair_count:
                s_tok, e_tok = group[0].start, group[-1].end
                original = " ".join(ctx.ref.words[o.target] for o in group)
                original = _match_case(ctx.words[s_tok:e_tok], original)
                out.append(Span("spun_phrase", ctx.toks[s_tok][0], ctx.toks[e_tok - 1][1], "",
                                f"likely original: {original}; fits context better by "
                                f"{gain:.1f} nats, reference pair seen {ev}x"))
            k = g + 1
        return out

    def _observed_score(self, ctx: "_Context", L: int, R: int, p: int, q: int) -> float:
        s = 0.0
        last = L
        ids = ctx.ids
        for i in range(p, q):
            s += self._emit(ctx, last, ids[i])
            last = ids[i]
        if R >= 0:
            s += self._emit(ctx, last, R)
        return s

    # ---- names -----------------------------------------------------------------------
    def _names(self, ctx: "_Context") -> list[Span]:
        """Capitalised names a synonym or two away from a known name or another on the page."""
        runs = capitalised_runs(ctx.words, ctx.breaks)
        if not runs:
            return []
        out = self._known_name_variants(ctx, runs)
        out += self._page_name_variants(ctx, runs)
        return out

    def _strong_set(self, ctx: "_Context", wid: int) -> frozenset[int]:
        s = ctx.tab.strong.get(wid)
        if s is None:
            s = ctx.tab.strong[wid] = frozenset(
                t for t, st in ctx.ref.syn.get(wid, ()) if st == 1)
        return s

    def _known_name_variants(self, ctx: "_Context", runs: list[list[int]]) -> list[Span]:
        ref, keys, words = ctx.ref, ctx.keys, ctx.words
        known = ref.known_names
        out = []
        for run in runs:
            n = len(run)
            s = 0
            while s < n:
                if keys[run[s]] in NAME_CONNECTORS:
                    s += 1
                    continue
                hit = None
                for e in range(min(n, s + 7), s + 2, -1):
                    if keys[run[e - 1]] in NAME_CONNECTORS:
                        continue
                    phrase = tuple(keys[i] for i in run[s:e])
                    if phrase in known:
                        break
                    match = self._match_known(ctx, phrase, [ctx.ids[i] for i in run[s:e]])
                    if match:
                        hit = (e, match)
                        break
                if hit:
                    e, name = hit
                    a, b = run[s], run[e - 1]
                    original = _match_case(words[a:b + 1], " ".join(name))
                    out.append(Span("spun_phrase", ctx.toks[a][0], ctx.toks[b][1], "",
                                    f"likely original: {original}; known name"))
                    s = e
                else:
                    s += 1
        return out

    def _match_known(self, ctx: "_Context", phrase: tuple[str, ...], pids: list[int]):
        """A known name of the same shape differing from ``phrase`` only by synonyms."""
        ref = ctx.ref
        sk = skeleton(phrase)
        seen: set[tuple[str, ...]] = set()
        n = len(phrase)
        free_ok = self.max_free_name_swaps if n >= 5 else 0
        best = None
        for k, t in enumerate(phrase):
            if t in NAME_CONNECTORS:
                continue
            bucket = ref.names_by_anchor.get((sk, k, t))
            if not bucket or len(bucket) > 400:
                continue
            for name in bucket:
                if name in seen:
                    continue
                seen.add(name)
                low = [w.lower() for w in name]
                n_syn = n_free = n_exact = 0
                for j in range(n):
                    if low[j] == phrase[j]:
                        n_exact += phrase[j] not in NAME_CONNECTORS
                        continue
                    tid = ref.vocab.get(low[j], -1)
                    if pids[j] >= 0 and tid in self._strong_set(ctx, pids[j]):
                        n_syn += 1
                    else:
                        n_free += 1
                if n_syn and n_free <= free_ok and n_syn + n_free <= n / 2 and n_exact:
                    key = (n_free, -n_exact)
                    if best is None or key < best[0]:
                        best = (key, name)
        return best[1] if best else None

    def _page_name_variants(self, ctx: "_Context", runs: list[list[int]]) -> list[Span]:
        """Two names on the page differing by one synonym: the rarer reading is spun."""
        keys = ctx.keys
        spans: dict[tuple[str, ...], tuple[int, int]] = {}
        for run in runs:
            n = len(run)
            for s in range(n):
                if keys[run[s]] in NAME_CONNECTORS:
                    continue
                for e in range(s + 2, min(n, s + 4) + 1):
                    if keys[run[e - 1]] not in NAME_CONNECTORS:
                        spans.setdefault(tuple(keys[i] for i in run[s:e]), (run[s], run[e - 1]))
        masked: dict[tuple, list[tuple[str, ...]]] = {}
        for ph in spans:
            for k in range(len(ph)):
                masked.setdefault(ph[:k] + ("\0",) + ph[k + 1:], []).append(ph)
        out = []
        vocab = ctx.ref.vocab
        for ph, (a, b) in spans.items():
            for k in range(len(ph)):
                for other in masked.get(ph[:k] + ("\0",) + ph[k + 1:], ()):
                    if other == ph:
                        continue
                    wid = vocab.get(ph[k], -1)
                    if wid < 0 or vocab.get(other[k], -1) not in self._strong_set(ctx, wid):
                        continue
                    if _name_support(ctx, other) > _name_support(ctx, ph):
                        original = _match_case(ctx.words[a:b + 1], " ".join(other))
                        out.append(Span("spun_phrase", ctx.toks[a][0], ctx.toks[b][1], "",
                                        f"likely original: {original}; name variant on "
                                        "this page"))
        return out

    # ---- tortured phrases -------------------------------------------------------------
    def _tortured(self, ctx: "_Context") -> list[Span]:
        out = []
        table = ctx.ref.tortured
        keys, breaks, toks = ctx.keys, ctx.breaks, ctx.toks
        n = len(keys)
        for i, k in enumerate(keys):
            entries = table.get(k)
            if not entries:
                continue
            for phrase, good in entries:
                j = i + len(phrase)
                if j <= n and tuple(keys[i:j]) == phrase and not any(breaks[i + 1:j]):
                    out.append(Span("spun_phrase", toks[i][0], toks[j - 1][1], "",
                                    f"likely original: {good}; tortured phrase"))
        return out


class _Context:
    """Everything one page's scoring needs, computed once."""

    __slots__ = ("ref", "tab", "toks", "words", "keys", "ids", "breaks", "bigram", "V")

    def __init__(self, ref, tab, toks, words, keys, ids, breaks):
        self.ref, self.tab, self.toks, self.words = ref, tab, toks, words
        self.keys, self.ids, self.breaks = keys, ids, breaks
        self.bigram = ref.bigram
        self.V = len(ref.words)

    def cnt(self, a: int, b: int) -> int:
        """Reference count of the pair (a, b); 0 for unknown words."""
        if a < 0 or b < 0:
            return 0
        return self.bigram.get(a * self.V + b, 0)


def _name_support(ctx: _Context, phrase: tuple[str, ...]) -> int:
    """How well the reference knows a name: its rarest bigram count (0 if unknown)."""
    vocab = ctx.ref.vocab
    pids = [vocab.get(w, -1) for w in phrase]
    if phrase in ctx.ref.known_names:
        return 10 ** 6
    return min(ctx.cnt(a, b) for a, b in zip(pids, pids[1:]))


def _runs(options: dict[int, list[_Option]], breaks: list[bool]) -> list[tuple[int, int]]:
    """Maximal stretches of tokens covered by options, joined when adjacent, cut at breaks."""
    runs: list[tuple[int, int]] = []
    p = q = -1
    for i in sorted(options):
        e = max(o.end for o in options[i])
        if p >= 0 and (i < q or (i == q and not breaks[i])):
            q = max(q, e)
            continue
        if p >= 0:
            runs.append((p, q))
        p, q = i, e
    if p >= 0:
        runs.append((p, q))
    return runs


def _rare_synonym_frac(ctx: _Context) -> float:
    """Share of thesaurus words whose commonest close synonym is >= 10x more frequent.

    Spinners pick synonyms at random, so their vocabulary drifts to rarer words.
    """
    ref, gaps = ctx.ref, ctx.tab.gap
    zipf = ref.zipf
    hits = total = 0
    for wid in ctx.ids:
        if wid < 0:
            continue
        g = gaps.get(wid)
        if g is None:
            best = max((float(zipf[t]) for t, s in ref.syn.get(wid, ())
                        if s == 1 and " " not in ref.words[t]), default=None)
            g = gaps[wid] = (best - float(zipf[wid])) if best is not None else -99.0
        if g <= -99.0:
            continue
        total += 1
        hits += g >= 1.0
    return hits / total if total else 0.0


def _merge(spans: list[Span]) -> list[Span]:
    """Drop spans overlapping an earlier (higher-priority) span; sort by position."""
    kept: list[Span] = []
    for s in spans:
        if any(k.start < s.end and s.start < k.end for k in kept):
            continue
        kept.append(s)
    return sorted(kept, key=lambda s: (s.start, s.end))
