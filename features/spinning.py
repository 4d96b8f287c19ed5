"""Synonym-spinning detection on the page alone, phrase by phrase, with the likely original.

Article spinners swap words for thesaurus synonyms ("trade war" -> "commerce warfare",
"in May" -> "in Could"). The result is rarely ungrammatical, so a grammar check misses it;
what gives it away is that it sits one synonym away from a common phrase. This module is a
small noisy-channel decoder:

* a bigram model of real English (counts from news and web text, absolute discounting
  backed off to ``wordfreq`` unigrams) scores how well a word fits its neighbours. Most of
  the plain word frequency is divided out (``unigram_weight``), so a rare but correct word
  is not called spun for being rare; a capitalisation model adds that a capital
  mid-sentence suits "May" or "House" but not "could" or "home";
* a thesaurus (WordNet 3.0 synonyms, co-hyponyms and hypernyms, inflected, plus the modal
  verbs WordNet lacks and "X language" for language names) proposes, for each suspicious
  word, the words a spinner could have replaced;
* a Viterbi search over short runs of suspicious words (bigrams unseen in the reference)
  picks the most likely original. A swap costs ``swap_cost`` nats plus log(number of the
  original's synonyms) (the noisy channel), less inside names, when it restores a
  WordNet compound, or when a thesaurus phrase stands for the word it expands. A phrase
  is flagged only if the original wins *and* forms a frequent, associated reference
  bigram with a neighbour;
* long capitalised names are matched against known names of the reference corpora and
  against other names on the same page; a phrase swap confirmed once is looked for
  elsewhere on the page; known tortured phrases are looked up directly.

Each flagged phrase is a ``Span(signal="spun_phrase")`` whose detail starts with
``likely original: <phrase>``. Page features are rates per 100 words, fractions and capped
counts; ``spin_score`` (0-1) is the page-level score. Everything scoring needs lives in
one compact file, ``models/spin_reference.npz`` (built by
``training/build_spin_reference.py``), loaded lazily once per process.

Speed: the per-page work (tokenising, per-word columns, the site and candidate search,
ranking and Viterbi decoding) runs in compiled passes (``features/spin_lattice.py``,
numba), about 0.45 ms per 5 KB article with the rest (`bench/bench_score.py`); word strings are made only for the
words new to the process and the few a span or name needs; the names, tortured phrases and
span text stay in Python. The Python and numpy code those passes replaced is kept as the reference
(``_USE_COMPILED = False``) and gives the same features and spans.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Sequence
from itertools import accumulate
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from farmscore.config import models_dir
from features.base import Extraction, Span
from features.document import WORD_RE, Document
from features.spin_lattice import (KEY_BITS, add_words, build_table, columns, decode_page,
                                   decode_runs, find_sites, link_words, lm_rows, page_codes,
                                   tokens)

REFERENCE_NAME = "spin_reference.npz"
#: Decode runs with the compiled ``spin_lattice.decode_runs`` (False: the Python reference,
#: ``SpinningExtractor._decode_runs_py``; both give the same spans and gain).
_USE_COMPILED = True

# ---- tokenisation shared by the reference builder and the extractor ----------------------
# A bigram never spans punctuation that ends a clause, quotes, brackets or a line break.
_BREAK_RE = re.compile(r"[.,;:!?()\[\]{}\"“”«»|\n•…–—]|\s-\s")
_DIGIT_RE = re.compile(r"\d")
_SENT_RE = re.compile(r"[.!?\n:\"“‘•]")
#: Closed-class words never examined as spun: WordNet lists some of them ("none", "near",
#: "will") under rare noun or adjective senses, which would make every page look spun.
#: Modal verbs are not here: spinners do swap them ("May" -> "Could").
CLOSED_CLASS = frozenset("""
a about above across after against all along also am among an and another any anyone
anything are around as at be because been before behind being below beneath beside
besides between beyond both but by de did do does doing done down during each either
else enough even ever every few for from further had has have having he her here hers
herself him himself his how however i if in inside into is it its itself just least
less many me more most much my myself near neither no nobody none nor not nothing now
of off on once one only onto or other others our ours ourselves out over own past per
quite rather same several she since so some somebody someone something such than that
the their theirs them themselves then there these they this those though through
throughout till to too toward towards under unless unlike until up upon us very via was
we were what whatever when where whether which while who whom whose why with within
without yet you your yours yourself yourselves
""".split())
#: Lower-case connectors allowed inside a capitalised name ("Center for ... and ...").
NAME_CONNECTORS = frozenset({"of", "for", "and", "the", "de", "on", "in", "&"})


_KEYS: dict[str, str] = {}
#: Longest word or gap the per-token caches keep: bounds their memory in bytes, not only in
#: entries (issue 19: pages of long distinct words filled them with hundreds of MB).
_MAX_CACHED_CHARS = 40


def lm_key(word: str) -> str:
    """The language-model form of a token: lower case, straight apostrophe, digits -> '#'."""
    key = _KEYS.get(word)
    if key is None:
        key = "#" if _DIGIT_RE.search(word) else word.lower().replace("’", "'")
        if len(word) <= _MAX_CACHED_CHARS:  # long words: not worth their memory
            if len(_KEYS) > 50_000:  # bound the cache on endless streams of new words
                _KEYS.clear()
            _KEYS[word] = key
    return key


#: WORD_RE with its match captured: ``split`` gives gap, word, gap, word, ..., gap.
_WORD_SPLIT_RE = re.compile(f"({WORD_RE.pattern})")
#: Bits of a gap between two words: a break, a sentence boundary, a line break.
_BRK, _SENT, _NL = 1, 2, 4
_GAP_FLAGS: dict[str, int] = {}


def _gap_flags(gap: str) -> int:
    """Break / sentence / newline bits of the text between two words (cached per gap).

    Break and sentence characters are never word characters, so a break lies between two
    words exactly when the gap between them contains one. Gaps repeat endlessly (" ", ", ",
    ". "), so they are classified once.
    """
    f = _GAP_FLAGS.get(gap)
    if f is None:
        f = 0
        if _BREAK_RE.search(gap):
            f = _BRK | (_SENT if _SENT_RE.search(gap) else 0)
        if "\n" in gap:
            f |= _NL
        if len(_GAP_FLAGS) < 100_000 and len(gap) <= _MAX_CACHED_CHARS:  # bounded on hostile input
            _GAP_FLAGS[gap] = f
    return f


#: Per-character class bits of the array tokeniser (``_char_classes``).
_C_WORD, _C_APOS, _C_BRK, _C_SENT, _C_NL, _C_SPACE, _C_DASH = 1, 2, 4, 8, 16, 32, 64
_CHAR_TABLE: np.ndarray | None = None


def _char_classes() -> np.ndarray:
    """Class bits of every code point below 65536 (built once, ~0.1 s).

    ``_C_WORD`` is exactly what ``\\w`` matches in a str pattern (``isalnum`` or "_"),
    ``_C_SPACE`` what ``\\s`` matches (``isspace``); the break, sentence and dash bits
    are the characters of ``_BREAK_RE`` and ``_SENT_RE``.
    """
    global _CHAR_TABLE
    if _CHAR_TABLE is None:
        chars = [chr(c) for c in range(65536)]
        word = np.fromiter((c.isalnum() or c == "_" for c in chars), dtype=bool, count=65536)
        space = np.fromiter((c.isspace() for c in chars), dtype=bool, count=65536)
        t = np.where(word, _C_WORD, 0) | np.where(space, _C_SPACE, 0)
        for c in ".,;:!?()[]{}\"“”«»|\n•…–—":
            t[ord(c)] |= _C_BRK
        for c in ".!?\n:\"“‘•":
            t[ord(c)] |= _C_SENT
        t[ord("\n")] |= _C_NL
        t[ord("'")] |= _C_APOS
        t[ord("’")] |= _C_APOS
        t[ord("-")] |= _C_DASH
        _CHAR_TABLE = t.astype(np.uint8)
    return _CHAR_TABLE


def split_words(text: str) -> tuple[list[str], list[int], list[int], list[int]]:
    """(words, starts, ends, gap flags) of ``text`` (``_split_words_arrays`` as lists)."""
    words, starts, ends, flags = _split_words_arrays(text)
    return words, starts.tolist(), ends.tolist(), flags.tolist()


def _split_words_arrays(text: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(words, starts, ends, gap flags) of ``text``: the tokens of ``WORD_RE``; all but the
    words as int64 arrays.

    ``flags[i]`` holds the ``_BRK``/``_SENT``/``_NL`` bits of the gap before word ``i``;
    the first word always starts a sentence.

    Done in one compiled pass over the text's code points (``spin_lattice.tokens``, ~10x
    faster than the regex split on a 5 KB page; the words come from one ``str.split`` of
    the text with everything outside a token blanked). Texts with characters beyond the
    Basic Multilingual Plane take the regex path (``_split_words_re``), which gives the
    same result.
    """
    if not text:
        return [], _NO_INTS, _NO_INTS, _NO_INTS
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if not text.isascii() and int(cp.max()) >= 65536:
        words, starts, ends, flags = _split_words_re(text)
        return (words, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64),
                np.array(flags, dtype=np.int64))
    starts, ends, flags, masked = tokens(cp, _char_classes())
    words = masked.tobytes().decode("utf-32-le", "surrogatepass").split()
    return words, starts, ends, flags


_NO_INTS = np.zeros(0, dtype=np.int64)


def _split_words_re(text: str) -> tuple[list[str], list[int], list[int], list[int]]:
    """``split_words`` in one regex pass (for texts beyond the Basic Multilingual Plane)."""
    parts = _WORD_SPLIT_RE.split(text)
    if len(parts) < 2:
        return [], [], [], []
    bounds = list(accumulate(map(len, parts)))
    gaps = parts[0:-1:2]
    get = _GAP_FLAGS.get
    flags = list(map(get, gaps))
    if None in flags:
        flags = [f if f is not None else _gap_flags(g) for f, g in zip(flags, gaps)]
    flags[0] = _BRK | _SENT | (flags[0] & _NL)
    return parts[1::2], bounds[0:-1:2], bounds[1::2], flags


def tokenize(text: str) -> list[tuple[int, int, str, bool, bool]]:
    """(start, end, word, break_before, sentence_start) for every word.

    The break flag is what keeps "... said, Trade ..." from counting as the pair
    "said trade"; ``sentence_start`` marks words whose capital letter says nothing.
    """
    words, starts, ends, flags = split_words(text)
    return [(s, e, w, bool(f & _BRK), bool(f & _SENT))
            for s, e, w, f in zip(starts, ends, words, flags)]


def case_observations(toks: list[tuple[int, int, str, bool, bool]], text: str) -> list[int]:
    """Per word: 1 capitalised mid-sentence, 0 lower case, -1 unknown.

    Capitals carry information only mid-sentence and outside title-case lines
    ("Trade Strains Before Summit"), where every word is capitalised.
    """
    if not toks:
        return []
    base, content, caps = zip(*(_case_row(t[2]) for t in toks))
    sent = [i for i, t in enumerate(toks) if t[4]]
    lines = [i for i in range(1, len(toks)) if "\n" in text[toks[i - 1][1]:toks[i][0]]]
    return _case_of(base, content, caps, sent, lines)


def _case_row(word: str) -> tuple[int, int, int]:
    """(case if mid-sentence: 1, 0 or -1 for non-letters; counts as content; capitalised
    content) of one word: what title-line detection and the case model need."""
    first = word[:1]
    content = int(word not in NAME_CONNECTORS)
    case = (1 if first.isupper() else 0) if first.isalpha() else -1
    return case, content, int(content and first.isupper())


def _case_of(base: Sequence[int], content: Sequence[int], caps: Sequence[int],
             sent: list[int], lines: list[int]) -> list[int]:
    """Case observations from ``_case_row`` columns, the indices of sentence-initial words
    and of words that start a new line (see ``case_observations``).

    A line is a title when at least 3 of its words are content words (not name
    connectors) and at least 60 % of those are capitalised.
    """
    out = list(base)
    for i in sent:
        out[i] = -1
    a = 0
    for b in lines + [len(out)]:
        n_content = sum(content[a:b])
        if n_content >= 3 and sum(caps[a:b]) >= 0.6 * n_content:
            out[a:b] = [-1] * (b - a)
        a = b
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
    cap: np.ndarray               # P(capitalised | word, mid-sentence), per vocab id
    next_cap: np.ndarray          # P(next word capitalised | word), mid-sentence
    cont: np.ndarray              # distinct right neighbours of each word in the corpus
    bigram: dict[int, int]        # a * V + b -> corpus count (count >= 2)
    syn: dict[int, tuple[tuple[int, int], ...]]   # observed id -> ((original id, strength), ..)
    syn_key: np.ndarray           # the same thesaurus as arrays: observed ids,
    syn_ptr: np.ndarray           # row n's targets are syn_idx[syn_ptr[n]:syn_ptr[n + 1]],
    syn_idx: np.ndarray           # original ids,
    syn_s: np.ndarray             # strengths (1: synset mate, 2: looser relation)
    zipf: np.ndarray              # wordfreq zipf per vocab id (float32)
    names_by_anchor: dict[tuple, list[tuple[str, ...]]]   # (skeleton, k, token) -> names
    known_names: frozenset        # lower-case tuples of known names (len >= 3)
    tortured: dict[str, list[tuple[tuple[str, ...], str]]]  # "w1 w2" -> (tokens, correct)
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


_REF_FOR: dict[tuple[str | None, str | None], SpinReference] = {}


def _reference_for(path: str | None) -> SpinReference:
    """``load_reference`` for an extractor's ``reference_path`` (None: the shipped file),
    without resolving the path on every page (``pathlib`` costs ~10 us a call). The
    default path depends only on ``FARMSCORE_MODELS`` (``farmscore.config.models_dir``),
    so that is part of the key."""
    key = (path, os.environ.get("FARMSCORE_MODELS"))
    ref = _REF_FOR.get(key)
    if ref is None:
        ref = _REF_FOR[key] = load_reference(Path(path) if path else None)
    return ref


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
        toks = tuple(lm_key(w) for w in WORD_RE.findall(bad))  # as pages are tokenised
        if len(toks) >= 2:
            tortured.setdefault(f"{toks[0]} {toks[1]}", []).append((toks, good))
    return SpinReference(
        vocab=vocab, words=words, logp_uni=logp.astype(np.float64), count=z["count"],
        cap=z["cap"].astype(np.float64), next_cap=z["next_cap"].astype(np.float64),
        cont=z["cont"],
        bigram=bigram, syn=syn, syn_key=z["syn_key"].astype(np.int64),
        syn_ptr=z["syn_ptr"].astype(np.int64), syn_idx=z["syn_idx"].astype(np.int64),
        syn_s=z["syn_s"], zipf=zipf, names_by_anchor=names_by_anchor,
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
    log_cap: list[float]            # log P(capitalised | word) mid-sentence
    log_low: list[float]            # log P(lower case | word) mid-sentence
    log_ncap: list[float]           # log P(next word capitalised | word)
    log_nlow: list[float]           # log P(next word lower case | word)
    inv_count: list[float]          # 1 / corpus count (0 for unseen words)
    backoff: list[float]            # absolute-discounting back-off mass per word
    cap: list[float]                # P(capitalised | word) mid-sentence
    t_start: np.ndarray             # per id (index -1: unknown): its single-word originals
    t_end: np.ndarray               # are t_idx[t_start[id]:t_end[id]] (see _originals)
    t_idx: np.ndarray
    t_strong: np.ndarray            # bool, parallel to t_idx: a synset mate
    strong: dict[int, frozenset[int]]
    gap: np.ndarray                 # per id (index -1: unknown): zipf(best single-word
                                    # synset mate) - zipf(id), -99 if it has none
    fanout: list[float]             # per id: log(number of synonyms, at least 1)
    bg_keys: np.ndarray             # sorted a * V + b of stored bigrams
    bg_counts: np.ndarray           # their counts
    examinable: np.ndarray          # bool per id: has synonyms and is not closed-class
    phrase_first: np.ndarray        # bool per id: first word of a two-word thesaurus key
    compound: frozenset[int]        # a * V + b of the thesaurus phrases "a b"
    has_strong: list[bool]          # per id (index -1: unknown): has a strong synonym
    known_at: dict[tuple, tuple | None]  # name window -> known-name match (lazy cache)
    tortured_first: frozenset[str]  # first words of the tortured phrases
    tortured_pairs: np.ndarray      # sorted a * V + b of their first two words, if known
    word_code: dict[str, int]       # page word -> its columns as one int (_word_code, lazy)
    word_key: dict[str, str]        # page word -> lm_key(word) (lazy)
    words: "_WordTable"             # word_code in compiled form (what _Context.of reads)
    words_obj: np.ndarray           # ref.words as an object array, "" appended (index -1):
                                    # a page's lm keys in one gather (_Context._finish)
    name_buckets: dict[tuple, list[tuple]]  # names_by_anchor's buckets of <= 400 names as
                                            # (name, lower-case words, their vocab ids)
    name_slots: dict[tuple[str, int], frozenset[int]]  # (skeleton, position) -> ids of the
                                            # words there in the names of those buckets
    arr: dict[str, np.ndarray]      # numpy copies of the per-id lists above (for bounds)
    compound_keys: np.ndarray       # sorted a * V + b of the two-word thesaurus keys "a b"
    compound_pid: np.ndarray        # their ids (parallel to compound_keys)
    frequent: np.ndarray            # filter of the pair keys seen >= min_pair_count times


_TABLES: dict[tuple[int, int, float], _Tables] = {}


def _tables(ref: SpinReference, min_pair_count: int, discount: float) -> _Tables:
    key = (id(ref), min_pair_count, discount)
    t = _TABLES.get(key)
    if t is not None:
        return t
    with _LOCK:
        if key in _TABLES:
            return _TABLES[key]
        V = len(ref.words)
        logp = ref.logp_uni.tolist()
        count = ref.count.astype(np.float64)
        inv = np.divide(1.0, count, out=np.zeros_like(count), where=count > 0)
        backoff = np.where(count > 0, np.clip(discount * ref.cont * inv, 0.05, 1.0), 1.0)
        examinable = np.zeros(V + 1, dtype=bool)       # index -1 (unknown) stays False
        phrase_first = np.zeros(V + 1, dtype=bool)
        has_strong = np.zeros(V + 1, dtype=bool)
        for k, targets in ref.syn.items():
            has_strong[k] = any(st == 1 for _t, st in targets)
            w = ref.words[k]
            if " " in w:
                first = ref.vocab.get(w.split(" ")[0], -1)
                if first >= 0:
                    phrase_first[first] = True
            elif w not in CLOSED_CLASS:
                examinable[k] = True
        bg_keys = np.fromiter(ref.bigram.keys(), dtype=np.int64, count=len(ref.bigram))
        bg_counts = np.fromiter(ref.bigram.values(), dtype=np.int64, count=len(ref.bigram))
        order = np.argsort(bg_keys)
        t_start, t_end, t_idx, t_strong = _originals(ref)
        ckeys, cpid = _compound_keys(ref)
        buckets, slots = _name_buckets(ref)
        fanout = [0.0] * V
        for k, m in zip(ref.syn_key.tolist(), np.diff(ref.syn_ptr).tolist()):
            fanout[k] = math.log(max(1, m))
        t = _Tables(count=ref.count.tolist(), logp=logp, p=np.exp(ref.logp_uni).tolist(),
                    log_cap=np.log(ref.cap).tolist(), log_low=np.log1p(-ref.cap).tolist(),
                    log_ncap=np.log(ref.next_cap).tolist(),
                    log_nlow=np.log1p(-ref.next_cap).tolist(),
                    inv_count=inv.tolist(), backoff=backoff.tolist(),
                    cap=ref.cap.tolist(), t_start=t_start, t_end=t_end, t_idx=t_idx,
                    t_strong=t_strong, strong={}, gap=_synonym_gaps(ref), fanout=fanout,
                    bg_keys=bg_keys[order], bg_counts=bg_counts[order],
                    examinable=examinable, phrase_first=phrase_first,
                    compound=frozenset(ckeys.tolist()),
                    has_strong=has_strong.tolist(), known_at={}, word_code={}, word_key={},
                    words=_WordTable(), words_obj=np.array(ref.words + [""], dtype=object),
                    tortured_first=frozenset(k.split(" ")[0] for k in ref.tortured),
                    tortured_pairs=_tortured_pairs(ref),
                    arr={}, compound_keys=ckeys, compound_pid=cpid,
                    frequent=_frequent_filter(bg_keys[bg_counts >= min_pair_count]),
                    name_buckets=buckets, name_slots=slots)
        t.arr = {name: np.asarray(getattr(t, name), dtype=np.float64)
                 for name in ("logp", "p", "inv_count", "backoff", "cap", "fanout")}
        zero = np.zeros(V)
        # per id, by case observation (0 lower, 1 capitalised, -1 unknown, as index 2):
        # log P(next word so | id) and log P(id so)
        t.arr["next_case"] = np.stack([np.asarray(t.log_nlow), np.asarray(t.log_ncap),
                                       zero], axis=1).ravel()
        t.arr["case"] = np.stack([np.asarray(t.log_low), np.asarray(t.log_cap), zero],
                                 axis=1).ravel()
        for name in ("log_ncap", "log_nlow", "log_cap", "log_low"):
            t.arr[name] = np.asarray(getattr(t, name), dtype=np.float64)
        t.arr["lm"] = lm_rows(t.arr)
        t.arr["has_strong"] = has_strong
        # the frequent-pair filter as bits (512 KB: it stays in a core's cache)
        t.arr["frequent_bits"] = np.packbits(t.frequent, bitorder="little")
        tp = t.tortured_pairs[t.tortured_pairs >= 0]
        t.arr["tortured"] = build_table(tp, np.zeros(len(tp), dtype=np.int64))
        t.arr["long3"] = np.fromiter((len(w) > 2 for w in ref.words), dtype=bool, count=V)
        first_id = np.full(V, -1, dtype=np.int64)
        last_id = np.full(V, -1, dtype=np.int64)
        for k in ref.syn:
            w = ref.words[k]
            if " " in w:
                parts = w.split(" ")
                first_id[k] = ref.vocab.get(parts[0], -1)
                last_id[k] = ref.vocab.get(parts[-1], -1)
        t.arr["first_id"], t.arr["last_id"] = first_id, last_id
        # hash tables of the compiled code: pair key -> count, compound pair key -> its id
        if V * V >= 1 << KEY_BITS or len(ref.bigram) and max(
                int(t.bg_counts.max()), V) >= 1 << (63 - KEY_BITS):
            raise ValueError("reference too large for the packed hash tables")
        t.arr["bigrams"] = build_table(t.bg_keys, t.bg_counts)
        t.arr["compounds"] = build_table(ckeys, cpid)
        _compile_lattice(t, ref)
        _TABLES[key] = t
        return t


def _compile_lattice(t: _Tables, ref: SpinReference) -> None:
    """Compile ``decode_runs`` now (or load it from numba's cache), with the argument types
    of every later call, so that no request pays for it: one call on an empty page."""
    i64, f64 = np.zeros(0, dtype=np.int64), np.zeros(0)
    b = np.zeros(0, dtype=bool)
    A = t.arr
    decode_runs(i64, i64, b, i64, i64, i64, i64, i64, i64, i64, b, i64, i64, i64, b, i64, i64,
                b, len(ref.words), A["bigrams"], A["compounds"], A["lm"], A["cap"], A["fanout"],
                ref.zipf, A["long3"], np.zeros(13), 6)
    text = "Warm up"
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    tokens(cp, _char_classes())
    t.words.codes(cp)  # (page_codes; add_words and link_words when a word is new)
    t.words.add(cp, np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64),
                np.full(1, 4, dtype=np.int64))
    t.words.clear()
    columns(np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), A["has_strong"],
            t.phrase_first, A["tortured"], len(ref.words), t.gap)
    find_sites(np.zeros(2, dtype=np.int64), np.ones(2, dtype=bool), np.zeros(2, dtype=bool),
               np.full(2, -1, dtype=np.int64), len(ref.words), A["bigrams"], A["compounds"],
               t.examinable, t.phrase_first, t.t_start,
               t.t_end, t.t_idx, t.t_strong, A["frequent_bits"], _HASH_MULT, _HASH_SHIFT, A["cap"],
               A["first_id"], A["last_id"], 0, 2, 3)
    decode_page(np.zeros(2, dtype=np.int64), np.full(3, -1, dtype=np.int64),
                np.ones(2, dtype=bool), np.zeros(2, dtype=bool), np.full(2, -1, dtype=np.int64),
                len(ref.words), A["bigrams"], A["compounds"], t.examinable, t.phrase_first,
                t.t_start, t.t_end, t.t_idx, t.t_strong, A["frequent_bits"], _HASH_MULT,
                _HASH_SHIFT, A["first_id"], A["last_id"], A["lm"], A["cap"], A["fanout"],
                ref.zipf, A["long3"], np.zeros(13), 0, 2, 3, 6)


def _originals(ref: SpinReference) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The thesaurus restricted to single-word originals of more than two letters.

    Multi-word originals are left out: a phrase's own collocation strength would make
    "drawn out" look likelier than "prolonged" anywhere. Returns per-id start and end
    offsets (index -1, an unknown word, has none) into the original ids and their
    synset-mate flags, in thesaurus order.
    """
    V = len(ref.words)
    usable = np.fromiter((" " not in w and len(w) > 2 for w in ref.words), dtype=bool, count=V)
    keep = usable[ref.syn_idx]
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    start = np.zeros(V + 1, dtype=np.int64)
    end = np.zeros(V + 1, dtype=np.int64)
    start[ref.syn_key] = kept_before[ref.syn_ptr[:-1]]
    end[ref.syn_key] = kept_before[ref.syn_ptr[1:]]
    return start, end, ref.syn_idx[keep], ref.syn_s[keep] == 1


def _name_buckets(ref: SpinReference) -> tuple[dict[tuple, list[tuple]],
                                                dict[tuple[str, int], frozenset[int]]]:
    """``ref.names_by_anchor`` without its buckets of more than 400 names (never searched),
    each name with its lower-case words and their vocab ids (-1 if unknown); and for each
    (skeleton, position) the ids of the words found there in those names."""
    vocab = ref.vocab
    rows: dict[tuple[str, ...], tuple] = {}
    out = {}
    for key, names in ref.names_by_anchor.items():
        if len(names) > 400:
            continue
        bucket = []
        for name in names:
            row = rows.get(name)
            if row is None:
                low = tuple(w.lower() for w in name)
                row = rows[name] = (name, low, tuple(vocab.get(w, -1) for w in low))
            bucket.append(row)
        out[key] = bucket
    slots: dict[tuple[str, int], set[int]] = {}
    for _name, low, lid in rows.values():
        sk = skeleton(low)
        for j, t in enumerate(lid):
            if t >= 0:
                slots.setdefault((sk, j), set()).add(t)
    return out, {k: frozenset(v) for k, v in slots.items()}


_EMPTY: frozenset[int] = frozenset()


def _tortured_pairs(ref: SpinReference) -> np.ndarray:
    """Sorted a * V + b of the first two words of the tortured phrases whose two words are
    both in the vocabulary (a sentinel -2 if none)."""
    V = len(ref.words)
    out = [-2]
    for k in ref.tortured:
        w1, w2 = k.split(" ")
        a, b = ref.vocab.get(w1, -1), ref.vocab.get(w2, -1)
        if a >= 0 and b >= 0:
            out.append(a * V + b)
    return np.unique(np.array(out, dtype=np.int64))


def _synonym_gaps(ref: SpinReference) -> np.ndarray:
    """Per id (and -99 at index -1, an unknown word): Zipf of its commonest single-word
    synset mate minus its own Zipf; -99 for words without one."""
    V = len(ref.words)
    zipf = ref.zipf.astype(np.float64)
    single = np.fromiter((" " not in w for w in ref.words), dtype=bool, count=V)
    ok = (ref.syn_s == 1) & single[ref.syn_idx]
    rows = np.repeat(np.arange(len(ref.syn_key)), np.diff(ref.syn_ptr))
    best = np.full(len(ref.syn_key), -np.inf)
    np.maximum.at(best, rows[ok], zipf[ref.syn_idx[ok]])
    has = np.isfinite(best)
    gap = np.full(V + 1, -99.0)
    gap[ref.syn_key[has]] = best[has] - zipf[ref.syn_key[has]]
    return gap


def _compound_keys(ref: SpinReference) -> tuple[np.ndarray, np.ndarray]:
    """Sorted a * V + b of every pair of known words "a b" that is a thesaurus key (every
    phrase key has two words), i.e. the pairs ``_is_compound`` accepts, and the keys' ids."""
    V = len(ref.words)
    keys, pids = [], []
    for k in ref.syn:
        w = ref.words[k]
        if " " in w:
            first, rest = w.split(" ", 1)
            a, b = ref.vocab.get(first, -1), ref.vocab.get(rest, -1)
            if a >= 0 and b >= 0:
                keys.append(a * V + b)
                pids.append(k)
    keys_a = np.array(keys, dtype=np.int64)
    order = np.argsort(keys_a, kind="stable")
    return keys_a[order], np.array(pids, dtype=np.int64)[order]


def _is_compound_many(tab: "_Tables", keys: np.ndarray) -> np.ndarray:
    """``_is_compound`` for many pair keys at once (negative keys: False)."""
    ck = tab.compound_keys
    pos = np.searchsorted(ck, keys)
    pos[pos >= len(ck)] = 0
    return (ck[pos] == keys) & (keys >= 0)


def _lookup_counts(tab: "_Tables", pair_keys: np.ndarray) -> np.ndarray:
    """Reference counts of many pairs (a * V + b; negative keys count 0) at once.

    One batch of binary searches from C costs less than a dictionary probe per pair from
    Python, most of which would miss the CPU caches one after another.
    """
    if not len(pair_keys):
        return pair_keys
    keys = tab.bg_keys
    pos = np.searchsorted(keys, pair_keys)
    np.minimum(pos, len(keys) - 1, out=pos)
    return np.where(keys[pos] == pair_keys, tab.bg_counts[pos], 0)


#: Multiplicative hash of pair keys into the frequent-pair filter (``_Tables.frequent``).
_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)
_FILTER_BITS = 22
_HASH_SHIFT = np.uint64(64 - _FILTER_BITS)


def _frequent_filter(keys: np.ndarray) -> np.ndarray:
    """A one-hash Bloom filter (one byte per slot, 4 MB) of pair keys: no false negatives,
    about 4 % false positives for the ~180k pairs seen at least ``min_pair_count`` times."""
    filt = np.zeros(1 << _FILTER_BITS, dtype=bool)
    filt[(keys.astype(np.uint64) * _HASH_MULT) >> _HASH_SHIFT] = True
    return filt


def _maybe_frequent(tab: "_Tables", pair_keys: np.ndarray) -> np.ndarray:
    """False for pair keys that surely have fewer than ``min_pair_count`` occurrences."""
    return tab.frequent[(pair_keys.view(np.uint64) * _HASH_MULT) >> _HASH_SHIFT]


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


def _spun_span(ctx: "_Context", s_tok: int, e_tok: int, targets: tuple[int, ...], gain: float,
               ev: int) -> Span:
    """The evidence span of words [s_tok, e_tok) read as the reference words ``targets``
    (recorded in ``ctx.confirmed`` for the repeat pass); shared by the compiled and the
    reference decoders so that both word it alike."""
    ctx.confirmed[tuple(ctx.keys[s_tok:e_tok])] = targets
    original = _match_case(ctx.words[s_tok:e_tok], " ".join([ctx.ref.words[t] for t in targets]))
    return Span("spun_phrase", ctx.starts_a.item(s_tok), ctx.ends_a.item(e_tok - 1), "",
                f"likely original: {original}; fits context better by "
                f"{gain:.1f} nats, reference pair seen {ev}x")


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


@dataclass(slots=True)
class _Option:
    """One reading of tokens [start, end): the observed words or a proposed original."""

    start: int
    end: int
    first: int
    last: int
    inner: float        # score inside a multi-word reading
    cost: float         # swap cost (0 for the observed reading)
    target: int         # vocab id of the proposed original (-1 for the observed word)
    strong: bool = False  # a WordNet synset mate (not a co-hyponym or hypernym)


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
    * ``case_weight``: weight of the capitalisation evidence (a capital mid-sentence is
      likelier on "May" than on "could", on "House" than on "home").
    * ``min_pair_count``: the original must form a reference bigram seen at least this often
      with a neighbour: evidence of a real phrase, not just a more frequent word.
    * ``plain_min_pair_count``: the same for a plain swap (not in a name, a compound or a
      phrase collapse), the reading most prone to false alarms.
    * ``min_association``: that bigram must also be a collocation: log P(b|a)/P(b) at
      least this (nats), so "made a" (frequent, meaningless) is no evidence.
    * ``suspicious_max_count``: a word is examined only if both bigrams it forms are seen at
      most this often (common pairs are not spun; this also keeps scoring fast).
    * ``chain_max_count``: the looser bound for a word next to a suspicious one (stored
      bigram counts start at 2, so 0 means "seen at most once").
    * ``discount``: absolute discount of the bigram model (Kneser-Ney's usual 0.75).
    * ``collapse_cost``: cost of reading a two-word thesaurus phrase as the one word it
      replaced ("Chinese language President" -> "Chinese President").
    * ``name_swap_cost``: swap cost for a word capitalised mid-sentence: names are fixed
      wording, so "White Home" next to the frequent name "White House" needs little more.
    * ``fixed_expression_cost``: swap cost when the swap restores a fixed expression (a
      WordNet compound, or two swapped words forming a strong collocation).
    * ``synonym_count_weight``: weight of log(number of synonyms of the proposed original)
      added to ``swap_cost``: a word with 40 synonyms explains any one of them poorly.
    * ``min_zipf_gain``: for two adjacent swaps to count as restoring a collocation, both
      originals must be at least this much commoner (wordfreq Zipf) than the page's words.
    * ``max_free_name_swaps``: non-synonym differences tolerated when a long capitalised
      name (>= 5 words) otherwise matches a known name.
    * ``spin_score`` = 1 - exp(-max(0, x - ``score_offset``) / ``score_scale``) with
      x = flagged phrases per 100 words + ``score_gain_weight`` * gain (nats) per 100 words
      + ``score_rare_weight`` * share of words with a 10x commoner close synonym. The two
      small terms break ties between pages with few flags (AUC 0.928 -> 0.939 at 10 % spun
      on the dev split). Offset and scale are calibrated on the clean dev pages: the median
      clean page scores 0 and the 95th percentile 0.5, so 0.5 is a 5 %-false-positive
      page threshold and downstream rules can read the score as a probability-like signal.
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
                 unigram_weight: float = 0.3, case_weight: float = 1.0,
                 min_pair_count: int = 3, plain_min_pair_count: int = 5,
                 min_association: float = 1.0,
                 suspicious_max_count: int = 0, chain_max_count: int = 2,
                 discount: float = 0.75,
                 max_options: int = 6, collapse_cost: float = 3.0,
                 name_swap_cost: float = 3.0, fixed_expression_cost: float = 3.0,
                 synonym_count_weight: float = 1.0, min_zipf_gain: float = 0.5,
                 max_free_name_swaps: int = 1,
                 score_offset: float = 0.7, score_scale: float = 1.6,
                 score_gain_weight: float = 0.05,
                 score_rare_weight: float = 3.0, reference_path: str | None = None):
        self.swap_cost = swap_cost
        self.weak_swap_cost = weak_swap_cost
        self.unigram_weight = unigram_weight
        self.case_weight = case_weight
        self.min_pair_count = min_pair_count
        self.plain_min_pair_count = plain_min_pair_count
        self.min_association = min_association
        self.suspicious_max_count = suspicious_max_count
        self.chain_max_count = chain_max_count
        self.discount = discount
        self.max_options = max_options
        self.collapse_cost = collapse_cost
        self.name_swap_cost = name_swap_cost
        self.fixed_expression_cost = fixed_expression_cost
        self.synonym_count_weight = synonym_count_weight
        self.min_zipf_gain = min_zipf_gain
        self.max_free_name_swaps = max_free_name_swaps
        self.score_offset = score_offset
        self.score_scale = score_scale
        self.score_gain_weight = score_gain_weight
        self.score_rare_weight = score_rare_weight
        self.reference_path = reference_path

    # ---- public ---------------------------------------------------------------------
    def extract(self, doc: Document) -> Extraction:
        ref = _reference_for(self.reference_path)
        tab = _tables(ref, self.min_pair_count, self.discount)
        ctx = _Context.of(doc.norm, ref, tab)
        lm_spans, gain = self._decode(ctx)
        lm_spans += self._repeat_swaps(ctx, lm_spans)
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
        rare = _rare_synonym_frac(ctx)
        x = rate + self.score_gain_weight * gain * per100 + self.score_rare_weight * rare
        return {
            "spin_phrases_per_100w": rate,
            "spin_phrase_count": float(min(len(spans), 50)),
            "spin_word_frac": min(1.0, covered / n),
            "spin_names_per_100w": n_names * per100,
            "spin_tortured_per_100w": n_tort * per100,
            "spin_rare_synonym_frac": rare,
            "spin_gain_per_100w": gain * per100,
            "spin_score": 1.0 - math.exp(-max(0.0, x - self.score_offset) / self.score_scale),
        }

    # ---- bigram model -----------------------------------------------------------------
    def _emit(self, ctx: "_Context", a: int, b: int, j: int) -> float:
        """Score of word ``b`` (at position ``j``) after word ``a``.

        log P(b|a) under absolute discounting (a frequent word with many different
        neighbours keeps much back-off mass, so an unseen pair after "on" costs little,
        an unseen pair after "rare" a lot), minus ``(1 - unigram_weight) * log P(b)``: that
        turns the model into association with the neighbour, so a rare-but-correct word is
        not called spun merely for being rare. Plus the capitalisation of the word at ``j``
        given ``a`` ("Chinese President" is usual, "language President" is not).
        Memoised per page: the Viterbi search asks for the same pairs as the candidates.
        """
        if b < 0:
            return -12.0
        if a < 0:
            return self.unigram_weight * ctx.tab.logp[b]
        pair = a * ctx.V + b
        memo_key = pair * ctx.stride + j + 1
        got = ctx.emits.get(memo_key)
        if got is None:
            got = self._emit_count(ctx, a, b, j, ctx.bigram.get(pair, 0))
            ctx.emits[memo_key] = got
        return got

    def _emit_count(self, ctx: "_Context", a: int, b: int, j: int, c: int) -> float:
        """``_emit`` for known words ``a`` and ``b`` whose pair was seen ``c`` times."""
        t = ctx.tab
        pr = (c - self.discount if c > self.discount else 0.0) * t.inv_count[a] \
            + t.backoff[a] * t.p[b]
        score = math.log(pr) - (1.0 - self.unigram_weight) * t.logp[b]
        if j >= 0:
            cj = ctx.case[j]
            if cj >= 0:
                score += self.case_weight * (t.log_ncap[a] if cj else t.log_nlow[a])
        return score

    def _candidates(self, ctx: "_Context", wid: np.ndarray, left: np.ndarray,
                    right: np.ndarray):
        """Proposed originals for every site (observed id, left id, right id) at once.

        A candidate original must form a frequent bigram (``min_pair_count``) with a
        neighbour. All (neighbour, original) pairs of the page are looked up in one sorted
        batch, so only the few candidates that pass are scored. Returns arrays over the
        candidates, grouped by site in site order and in thesaurus order within a site:
        site index, original id, synset-mate flag, count with the left and with the right
        neighbour.
        """
        tab, V = ctx.tab, ctx.V
        lo = tab.t_start[wid]
        lens = tab.t_end[wid] - lo
        owner = np.repeat(np.arange(len(wid)), lens)
        flat = np.arange(len(owner)) + np.repeat(lo - (np.cumsum(lens) - lens), lens)
        tid = tab.t_idx[flat]
        L, R = left[owner], right[owner]
        kl = np.where(L >= 0, L * V + tid, -1)
        kr = np.where(R >= 0, tid * V + R, -1)
        # only pairs that pass a cheap filter of the frequent pairs are searched
        maybe = np.flatnonzero(_maybe_frequent(tab, kl) | _maybe_frequent(tab, kr))
        n = len(maybe)
        counts = _lookup_counts(tab, np.concatenate([kl[maybe], kr[maybe]]))
        c_left, c_right = counts[:n], counts[n:]
        hit = np.flatnonzero((c_left >= self.min_pair_count) | (c_right >= self.min_pair_count))
        sel = maybe[hit]
        return owner[sel], tid[sel], tab.t_strong[flat[sel]], c_left[hit], c_right[hit]

    def _cannot_win(self, ctx: "_Context", i: np.ndarray, w: np.ndarray, Ls: np.ndarray,
                    Rs: np.ndarray, lc: np.ndarray, rc: np.ndarray, owner: np.ndarray,
                    tid: np.ndarray, strong: np.ndarray, c_left: np.ndarray,
                    c_right: np.ndarray) -> np.ndarray:
        """Per candidate of a one-word site alone in its run: can it not beat the observed
        word? (An upper bound of its Viterbi score, with the fixed-expression refund on
        each edge where the pair is a thesaurus compound, stays below the observed
        reading's score.) Sites are given by position, observed id, neighbour ids and the
        observed word's counts with its neighbours; candidates as ``_candidates`` gives
        them, ``owner`` indexing the sites.

        Only such runs are judged here: there the Viterbi search is a choice between the
        observed word and each candidate between the same two observed neighbours, the
        observed reading wins ties, and a run whose observed reading wins adds no span and
        no gain. The bound is computed with numpy (whose log may differ from ``math.log``
        in the last bit), so it keeps a margin of 1e-6 nats; sites where a candidate might
        win are ranked and decoded exactly, as before.
        """
        tab = ctx.tab
        A = tab.arr
        d, uw, cw = self.discount, self.unigram_weight, self.case_weight
        logp, cap = A["logp"], A["cap"]
        case_all = ctx.case_arr
        case, case_next = case_all[i], case_all[i + 1]
        words, flags = ctx.words, ctx.flags
        in_name = np.array([(c == 1 or (c < 0 and not flags[k] & _SENT
                                        and words[k][:1].isupper())) and len(words[k]) > 2
                            for k, c in zip(i.tolist(), case.tolist())], dtype=bool)
        in_name &= cap[w] <= 0.5
        L, R, c = Ls[owner], Rs[owner], case[owner]
        ns, nc = len(i), len(tid)
        # all emissions in one batch: observed word after L and before R, then each
        # candidate after L and before R (``_emit_count``; the case of the right word
        # picks log P(next capitalised | left word), its opposite, or nothing)
        ea = np.concatenate([Ls, w, L, tid])
        eb = np.concatenate([w, Rs, tid, R])
        ec = np.concatenate([lc, rc, c_left, c_right])
        ej = np.concatenate([case, case_next, c, case_next[owner]])
        pr = np.maximum(ec - d, 0.0) * A["inv_count"][ea] + A["backoff"][ea] * A["p"][eb]
        e = np.log(pr) - (1.0 - uw) * logp[eb] + cw * A["next_case"][ea * 3 + ej % 3]
        e = np.where(np.concatenate([Ls, Rs, L, R]) >= 0, e, 0.0)
        # words without a left neighbour: unigram_weight * log P(word)
        cs = np.concatenate([w, tid])
        first = np.concatenate([Ls, L]) < 0
        e_first = np.where(first, uw * logp[cs], 0.0)
        case_sc = cw * A["case"][cs * 3 + np.concatenate([case, c]) % 3]
        obs = e[:ns] + e_first[:ns] + case_sc[:ns] + e[ns:2 * ns]
        cost = np.where(strong, self.swap_cost, self.weak_swap_cost) \
            + self.synonym_count_weight * A["fanout"][tid]
        name = in_name[owner] & (cap[tid] >= np.maximum(cap[w[owner]], 0.03))
        cost = np.where(name, self.name_swap_cost, cost)
        refund = np.maximum(0.0, cost - self.fixed_expression_cost)
        comp = _is_compound_many(tab, np.concatenate([np.where(L >= 0, L * ctx.V + tid, -1),
                                                      np.where(R >= 0, tid * ctx.V + R, -1)]))
        score = e[2 * ns:2 * ns + nc] + e_first[ns:] + case_sc[ns:] - cost \
            + refund * comp[:nc] + refund * comp[nc:] + e[2 * ns + nc:]
        return score < obs[owner] - 1e-6

    def _rank(self, ctx: "_Context", site: tuple[int, int, int, int, int],
              cands: list[tuple[int, bool, int, int]]) -> list[_Option]:
        """Score candidate originals (id, strong, count with left, count with right) of a
        site by how well each fits both neighbours (what Viterbi will judge); keep the best."""
        i, j, wid, L, R = site
        tab = ctx.tab
        w = self.case_weight
        base = self.collapse_cost if j - i > 1 else None
        # an unusual capital mid-sentence ("the White Home") marks a name, and names are
        # never paraphrased: swaps towards a word that is often capitalised cost less
        cap = tab.cap
        ref_words = ctx.ref.words
        in_name = (ctx.case[i] == 1 or (ctx.case[i] < 0 and not ctx.flags[i] & _SENT
                                        and ctx.words[i][:1].isupper())) \
            and cap[wid] <= 0.5 and len(ctx.words[i]) > 2
        emits = ctx.emits
        V, stride = ctx.V, ctx.stride
        # _emit_count inlined (same operations in the same order): the left neighbour and
        # the right neighbour are fixed for the site
        d, k_uni, log = self.discount, 1.0 - self.unigram_weight, math.log
        inv, backoff, p, logp = tab.inv_count, tab.backoff, tab.p, tab.logp
        log_ncap, log_nlow, log_cap, log_low = tab.log_ncap, tab.log_nlow, tab.log_cap, \
            tab.log_low
        ci = ctx.case[i]
        if L >= 0:
            inv_l, bo_l = inv[L], backoff[L]
            case_l = w * (log_ncap[L] if ci else log_nlow[L]) if ci >= 0 else None
            key_l = L * V * stride + i + 1
        if R >= 0:
            p_r, logp_r = p[R], logp[R]
            cj = ctx.case[j]
            key_r = R * stride + j + 1
        scored = []
        for tid, strong, cl, cr in cands:
            if base is not None and not strong:
                continue  # a phrase collapses only into a true synonym
            if base is not None:
                # cheap only when the phrase expands the word itself ("Chinese language"
                # for "Chinese"), the spinner's habit; "stay fresh" for "keep" pays in full
                words_ = ref_words[wid].split(" ")
                expands = ref_words[tid] in (words_[0], words_[-1])
                cost = base if expands else self.swap_cost
            elif in_name and cap[tid] >= max(cap[wid], 0.03) and len(ref_words[tid]) > 2:
                cost = self.name_swap_cost
            else:
                cost = self.swap_cost if strong else self.weak_swap_cost
                # the spinner picks one of the original's synonyms: the more it has, the
                # less likely this particular one (noisy channel P(observed | original))
                cost += self.synonym_count_weight * tab.fanout[tid]
            case = w * ((log_cap[tid] if ci else log_low[tid]) if ci >= 0 else 0.0)
            fit_left = fit_right = 0.0
            if L >= 0:
                fit_left = log((cl - d if cl > d else 0.0) * inv_l + bo_l * p[tid]) \
                    - k_uni * logp[tid]
                if case_l is not None:
                    fit_left += case_l
                emits[key_l + tid * stride] = fit_left
            if R >= 0:
                fit_right = log((cr - d if cr > d else 0.0) * inv[tid] + backoff[tid] * p_r) \
                    - k_uni * logp_r
                if cj >= 0:
                    fit_right += w * (log_ncap[tid] if cj else log_nlow[tid])
                emits[tid * V * stride + key_r] = fit_right
            scored.append((case - cost + fit_left + fit_right, tid, case, cost, strong))
        scored.sort(reverse=True)
        return [_Option(i, j, tid, tid, case, cost, tid, strong)
                for _fit, tid, case, cost, strong in scored[: self.max_options]]

    def _decode(self, ctx: "_Context") -> tuple[list[Span], float]:
        """Viterbi over runs of suspicious words; flagged spans and their total gain."""
        if _USE_COMPILED:
            return self._decode_compiled(ctx)
        ids, keys, breaks = ctx.ids, ctx.keys, ctx.breaks
        syn = ctx.ref.syn
        vocab = ctx.ref.vocab
        n = len(ids)
        susp = self.suspicious_max_count
        if n < 2:
            return [], 0.0
        tab = ctx.tab
        # vectorised pre-filter: bigram counts of all adjacent pairs at once
        arr = ctx.arr
        a, b = arr[:-1], arr[1:]
        counts = _lookup_counts(tab, np.where((a >= 0) & (b >= 0), a * ctx.V + b, -1))
        counts[ctx.brk[1:]] = -1
        left_a = np.full(n + 1, -1, dtype=np.int64)     # count of the bigram ending at i
        left_a[1:n] = counts
        lc_a, rc_a = left_a[:n], left_a[1:]
        exam = tab.examinable[arr]
        single = exam & (lc_a <= susp) & (rc_a <= susp) & ((lc_a >= 0) | (rc_a >= 0))
        # a neighbour of a suspicious word, joined to it by an unseen pair, is examined with
        # a looser bound: spinners often swap two words in a row ("commerce warfare")
        loose = self.chain_max_count
        chain = np.zeros(n, dtype=bool)
        chain[:-1] |= single[1:] & (rc_a[:-1] == 0)
        chain[1:] |= single[:-1] & (lc_a[1:] == 0)
        single |= chain & exam & (lc_a <= loose) & (rc_a <= loose)
        collapse = tab.phrase_first[a] & (rc_a[:-1] >= 0) & (left_a[2:] <= susp)
        # sites (position, end, observed id, left id, right id), ordered by position, the
        # one-word site before the two-word one
        nb_l = np.full(n + 1, -1, dtype=np.int64)       # id of the word before i, if joined
        nb_l[1:n] = np.where(counts >= 0, a, -1)
        si = np.flatnonzero(single)
        s_i, s_j, s_w = si, si + 1, arr[si]
        s_L = nb_l[si]
        s_R = np.where(left_a[si + 1] >= 0, np.append(arr, -1)[si + 1], -1)
        ci = np.flatnonzero(collapse)
        if len(ci):
            # two words read as one original ("Chinese language" -> "Chinese"): the pair is
            # a thesaurus key; pairs of known words are looked up in the sorted key array
            nxt = b[ci]
            known = nxt >= 0
            ck = tab.compound_keys
            q = a[ci] * ctx.V + nxt
            pos = np.searchsorted(ck, q)
            pos[pos >= len(ck)] = 0
            found = known & (ck[pos] == q)
            c_pos, c_pid = ci[found].tolist(), tab.compound_pid[pos[found]].tolist()
            if not known.all():  # an unknown second word: look the phrase up by name
                for i in ci[~known].tolist():
                    pid = vocab.get(keys[i] + " " + keys[i + 1], -1)
                    if pid >= 0 and pid in syn:
                        c_pos.append(i)
                        c_pid.append(pid)
                if len(c_pos) > 1:
                    c_pos, c_pid = map(list, zip(*sorted(zip(c_pos, c_pid))))
            if c_pos:
                cp = np.array(c_pos, dtype=np.int64)
                c_R = np.where(left_a[cp + 2] >= 0, np.append(arr, -1)[cp + 2], -1)
                order = np.argsort(np.concatenate([si * 2, cp * 2 + 1]), kind="stable")
                s_i = np.concatenate([si, cp])[order]
                s_j = np.concatenate([si + 1, cp + 2])[order]
                s_w = np.concatenate([s_w, np.array(c_pid, dtype=np.int64)])[order]
                s_L = np.concatenate([s_L, nb_l[cp]])[order]
                s_R = np.concatenate([s_R, c_R])[order]
        n_sites = len(s_i)
        if not n_sites:
            return [], 0.0
        owner, tid, strong, c_left, c_right = self._candidates(ctx, s_w, s_L, s_R)
        # which sites get options (a phrase collapses only into a true synonym), hence runs
        has = np.bincount(owner, minlength=n_sites) > 0
        two = (s_j - s_i) > 1
        if two.any():
            has &= ~two | (np.bincount(owner[strong], minlength=n_sites) > 0)
        keep = np.flatnonzero(has)
        if not len(keep):
            return [], 0.0
        ends: dict[int, int] = {}
        site_at: dict[int, list[int]] = {}
        for k, i, j in zip(keep.tolist(), s_i[keep].tolist(), s_j[keep].tolist()):
            ends[i] = max(ends.get(i, j), j)
            site_at.setdefault(i, []).append(k)
        runs = _runs(ends, breaks)
        return self._decode_runs_py(ctx, runs, site_at, (s_i, s_j, s_w, s_L, s_R),
                                    (owner, tid, strong, c_left, c_right), left_a)

    def _decode_compiled(self, ctx: "_Context") -> tuple[list[Span], float]:
        """``_decode`` in one compiled call (``spin_lattice.decode_page``: ``find_sites``,
        the sites, candidates and runs, then ``decode_runs``, ranking and Viterbi), the same
        computation as the numpy and Python code of ``_decode``; then the spans of the runs
        that gain."""
        n = len(ctx.arr)
        if n < 2:
            return [], 0.0
        tab, ref = ctx.tab, ctx.ref
        arr = ctx.arr
        # a two-word thesaurus phrase whose second word is not in the vocabulary is looked
        # up by name
        unk_pid = np.full(n, -1, dtype=np.int64)
        if len(ctx.unk_phrase):
            keys, vocab, syn = ctx.keys, ref.vocab, ref.syn
            for i in ctx.unk_phrase.tolist():
                pid = vocab.get(keys[i] + " " + keys[i + 1], -1)
                if pid >= 0 and pid in syn:
                    unk_pid[i] = pid
        A = tab.arr
        gains, flagged, ptr, p_int, p_ev = decode_page(
            arr, ctx.case_arr, ctx.brk, ctx.name_like, unk_pid, ctx.V, A["bigrams"],
            A["compounds"], tab.examinable, tab.phrase_first, tab.t_start, tab.t_end,
            tab.t_idx, tab.t_strong, A["frequent_bits"], _HASH_MULT, _HASH_SHIFT,
            A["first_id"], A["last_id"], A["lm"], A["cap"], A["fanout"], ref.zipf, A["long3"],
            self._lattice_params(), self.suspicious_max_count,
            self.chain_max_count, self.min_pair_count, self.max_options)
        spans: list[Span] = []
        # (the sum in run order, as the Python reference adds the gains)
        total = 0.0
        for g in gains[gains > 0].tolist():
            total += g
        if not flagged.any():  # (_spans_of would flag none of the runs' groups)
            return spans, total
        ptr = ptr.tolist()
        # the paths' rows as plain lists, in one conversion each: (start, end, first, last,
        # target, strong), and the evidence of flagged groups
        rows, ev = p_int.tolist(), p_ev.tolist()
        for r in flagged.nonzero()[0].tolist():
            a, b = ptr[r], ptr[r + 1]
            spans.extend(self._spans_of_compiled(ctx, rows[a:b], ev[a:b], float(gains[r])))
        return spans, total

    def _spans_of_compiled(self, ctx: "_Context", path: list[list[int]], ev_rows: list[int],
                           gain: float) -> list[Span]:
        """``_spans_of`` for a path whose flagged groups ``decode_runs`` found, given as rows
        (start, end, first, last, target, strong) of its readings: ``ev_rows`` holds, at a
        flagged group's first reading, its evidence count (-1 elsewhere). Makes the same
        spans and records the same confirmed swaps."""
        out = []
        k = 0
        n = len(path)
        while k < n:
            if path[k][4] < 0:
                k += 1
                continue
            g = k
            while g + 1 < n and path[g + 1][4] >= 0:
                g += 1
            ev = ev_rows[k]
            if ev >= 0:
                group = path[k:g + 1]
                out.append(_spun_span(ctx, group[0][0], group[-1][1],
                                      tuple(o[4] for o in group), gain, ev))
            k = g + 1
        return out

    def _lattice_params(self) -> np.ndarray:
        """The thresholds ``decode_runs`` takes, in its order. ``min_zipf_gain`` goes as
        float32: ``_fixed_bonus`` compares float32 Zipf differences with it, which numpy
        does in float32."""
        return np.array([self.discount, self.unigram_weight, self.case_weight,
                         self.swap_cost, self.weak_swap_cost, self.name_swap_cost,
                         self.collapse_cost, self.synonym_count_weight,
                         self.fixed_expression_cost, float(np.float32(self.min_zipf_gain)),
                         float(self.min_pair_count), self.min_association,
                         float(self.plain_min_pair_count)], dtype=np.float64)

    def _decode_runs_py(self, ctx: "_Context", runs: list[tuple[int, int]],
                        site_at: dict[int, list[int]], site: tuple, cands: tuple,
                        left_a: np.ndarray) -> tuple[list[Span], float]:
        """The Python reference of ``_decode_runs``: rank each site's candidates, decode
        each run with Viterbi (skipping one-word runs that provably cannot gain)."""
        s_i, s_j, s_w, s_L, s_R = site
        owner, tid, strong, c_left, c_right = cands
        n_sites = len(s_i)
        # a one-word site alone in its run whose candidates all provably lose is skipped
        lone_k = [site_at[p][0] for p, q in runs if q == p + 1]
        hopeless = np.zeros(n_sites, dtype=bool)
        if lone_k:
            lone = hopeless.copy()
            lone[lone_k] = True
            hopeless[lone_k] = True
            sel = lone[owner]
            lk = np.array(lone_k, dtype=np.int64)
            remap = np.zeros(n_sites, dtype=np.int64)
            remap[lk] = np.arange(len(lk))
            o_sel = owner[sel]
            li = s_i[lk]
            lose = self._cannot_win(ctx, li, s_w[lk], s_L[lk], s_R[lk], left_a[li],
                                    left_a[li + 1], remap[o_sel], tid[sel], strong[sel],
                                    c_left[sel], c_right[sel])
            hopeless[o_sel[~lose]] = False
        bounds = np.searchsorted(owner, np.arange(n_sites + 1)).tolist()
        hopeless_l = hopeless.tolist()
        t_l = s_c = cl_l = cr_l = None
        spans: list[Span] = []
        total = 0.0
        for p, q in runs:
            options: dict[int, list[_Option]] = {}
            for i in range(p, q):
                for k in site_at.get(i, ()):
                    if hopeless_l[k]:
                        continue
                    if t_l is None:
                        t_l, s_c = tid.tolist(), strong.tolist()
                        cl_l, cr_l = c_left.tolist(), c_right.tolist()
                    a_, b_ = bounds[k], bounds[k + 1]
                    site = (int(s_i[k]), int(s_j[k]), int(s_w[k]), int(s_L[k]), int(s_R[k]))
                    opts = self._rank(ctx, site, list(zip(t_l[a_:b_], s_c[a_:b_],
                                                          cl_l[a_:b_], cr_l[a_:b_])))
                    if opts:
                        options.setdefault(i, []).extend(opts)
            if not options:
                continue
            if q == p + 1:
                found, g = self._viterbi_one(ctx, options[p], p)
            else:
                found, g = self._viterbi(ctx, options, p, q)
            spans.extend(found)
            total += g
        return spans, total

    def _viterbi_one(self, ctx: "_Context", opts: list[_Option], p: int):
        """``_viterbi`` for a run of one word [p, p + 1) with one-word options ``opts``: the
        same sums in the same order and the same tie-breaking, without the lattice."""
        ids, breaks = ctx.ids, ctx.breaks
        emit, bonus = self._emit, self._fixed_bonus
        q = p + 1
        L = ids[p - 1] if p > 0 and not breaks[p] else -1
        R = ids[q] if q < len(ids) and not breaks[q] else -1
        w = ids[p]
        observed = _Option(p, q, w, w, self.case_weight * ctx.case_score(w, p), 0.0, -1)
        # best score per last word, in first-reached order (ties keep the earlier option)
        tgt: dict[int, tuple[float, _Option]] = {}
        s = 0.0 + emit(ctx, L, w, p) + (observed.inner - observed.cost)
        tgt[w] = (s, observed)
        for o in opts:
            s = 0.0 + emit(ctx, L, o.first, p) + (o.inner - o.cost)
            if L >= 0:
                s += bonus(ctx, L, o.first, None, o)
            cur = tgt.get(o.last)
            if cur is None or s > cur[0]:
                tgt[o.last] = (s, o)
        best_s = best_o = None
        for last, (sc, o) in tgt.items():
            s = sc + (emit(ctx, last, R, q) if R >= 0 else 0.0)
            if R >= 0 and o.target >= 0:
                s += bonus(ctx, last, R, o, None)
            if best_s is None or s > best_s:
                best_s, best_o = s, o
        gain = best_s - self._observed_score(ctx, L, R, p, q)
        if gain <= 0:
            return [], 0.0
        return self._spans_of(ctx, [best_o], L, R, gain), gain

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
            observed = _Option(i, i + 1, ids[i], ids[i],
                               self.case_weight * ctx.case_score(ids[i], i), 0.0, -1)
            edges = [observed] + options.get(i, [])
            for o in edges:
                if o.end > q:
                    continue
                tgt = best.setdefault(o.end, {})
                base = o.inner - o.cost
                swapped = o.target >= 0
                for last, (sc, bp) in states.items():
                    s = sc + emit(ctx, last, o.first, i) + base
                    prev = bp[2] if bp is not None else None
                    if prev is not None and prev.target < 0:
                        prev = None
                    if (swapped or prev) and last >= 0:
                        s += self._fixed_bonus(ctx, last, o.first, prev, o if swapped else None)
                    cur = tgt.get(o.last)
                    if cur is None or s > cur[0]:
                        tgt[o.last] = (s, (i, last, o))
        end_states = best.get(q)
        if not end_states:
            return [], 0.0
        final = {}
        for last, (sc, bp) in end_states.items():
            s = sc + (emit(ctx, last, R, q) if R >= 0 else 0.0)
            prev = bp[2] if bp is not None else None
            if R >= 0 and prev is not None and prev.target >= 0:
                s += self._fixed_bonus(ctx, last, R, prev, None)
            final[last] = s
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

    def _fixed_bonus(self, ctx: "_Context", a: int, b: int, pa: _Option | None,
                     pb: _Option | None) -> float:
        """Refund part of the swap costs of ``pa``/``pb`` when they restore a fixed expression.

        People do not paraphrase fixed expressions, so a pair one swap away from a WordNet
        compound ("uncommon earth" -> "rare earth") is strong evidence: such a swap costs
        only ``fixed_expression_cost``. Two adjacent swaps that together give a collocation
        ("commerce warfare" -> "trade war") are refunded only when at least one is a true
        synonym and both originals are clearly commoner words than what the page has:
        otherwise correct pairs turn into collocations too ("tariff escalation" -> "tax
        increase", two hypernyms; "export curbs" -> "import controls", no commoner word).
        """
        fixed = self.fixed_expression_cost
        refund = 0.0
        if pa is not None:
            refund += max(0.0, pa.cost - fixed)
        if pb is not None:
            refund += max(0.0, pb.cost - fixed)
        if not refund:
            return 0.0
        ref = ctx.ref
        if _is_compound(ctx, a, b):
            return refund
        if pa is None or pb is None or not (pa.strong or pb.strong):
            return 0.0
        zipf, ids = ref.zipf, ctx.ids
        if pa.end - pa.start != 1 or pb.end - pb.start != 1:
            return 0.0
        if min(zipf[pa.target] - zipf[ids[pa.start]], zipf[pb.target] - zipf[ids[pb.start]]) \
                < self.min_zipf_gain or not self._evidence(ctx, [(a, b)]):
            return 0.0
        return refund

    def _spans_of(self, ctx: "_Context", path: list[_Option], L: int, R: int,
                  gain: float) -> list[Span]:
        """Group consecutive swapped readings of a decoded run into evidence spans."""
        out = []
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
            pairs = [(prev_id, group[0].first), (group[-1].last, next_id)]
            pairs += [(a.last, b.first) for a, b in zip(group, group[1:])]
            ev = self._evidence(ctx, pairs)
            need = self.min_pair_count
            if all(o.cost >= self.swap_cost for o in group) and not any(
                    _is_compound(ctx, a, b) for a, b in pairs if a >= 0 and b >= 0):
                need = self.plain_min_pair_count  # plain swaps are the riskiest reading
            if ev >= need:
                out.append(_spun_span(ctx, group[0].start, group[-1].end,
                                      tuple(o.target for o in group), gain, ev))
            k = g + 1
        return out

    def _evidence(self, ctx: "_Context", pairs: list[tuple[int, int]]) -> int:
        """Largest reference count among ``pairs`` that are real collocations.

        A pair counts only if its association (log P(b|a) / P(b)) reaches
        ``min_association``: "made a" is frequent but says nothing; "White House" does.
        """
        best = 0
        t = ctx.tab
        for a, b in pairs:
            c = ctx.cnt(a, b)
            if c < self.min_pair_count or c <= best:
                continue
            pr = (c - self.discount) * t.inv_count[a] + t.backoff[a] * t.p[b]
            if math.log(pr) - t.logp[b] >= self.min_association:
                best = c
        return best

    def _repeat_swaps(self, ctx: "_Context", taken: list[Span]) -> list[Span]:
        """Other occurrences of a two-word phrase swap already confirmed on this page.

        A spinner applies one thesaurus consistently, so once "Chinese language" is shown
        to stand for "Chinese", its other occurrences need no reference pair of their own:
        it is enough that the phrase is followed by a word it is never seen before
        (bigram count <= ``suspicious_max_count``). Single words are not propagated: on
        clean pages that multiplied every false alarm.
        """
        phrases = {k: t for k, t in ctx.confirmed.items() if len(k) == 2}
        if not phrases:
            return []
        keys = ctx.keys
        brk, wid = ctx.brk.item, ctx.arr.item  # (read at a few positions)
        cnt = ctx.cnt
        n = len(keys)
        starts = {s.start for s in taken}
        out = []
        # only positions whose word id is that of a phrase's first word can match (a
        # phrase starting with an unknown word needs the full scan)
        vocab = ctx.ref.vocab
        first = {vocab.get(k[0], -1) for k in phrases}
        if -1 in first:
            where = range(n - 1)
        else:  # (one comparison per first word: np.isin costs far more on a few ids)
            head = ctx.arr[:-1]
            where = sorted(i for f in first for i in np.flatnonzero(head == f).tolist())
        for i in where:
            j = i + 2
            target = phrases.get((keys[i], keys[i + 1]))
            if target is None or brk(i + 1) or ctx.starts_a.item(i) in starts:
                continue
            if j >= n or brk(j) or cnt(wid(j - 1), wid(j)) > self.suspicious_max_count:
                continue
            original = _match_case(ctx.words[i:j], " ".join(ctx.ref.words[t] for t in target))
            out.append(Span("spun_phrase", ctx.starts_a.item(i), ctx.ends_a.item(j - 1), "",
                            f"likely original: {original}; same swap as elsewhere on "
                            "this page"))
        return out

    def _observed_score(self, ctx: "_Context", L: int, R: int, p: int, q: int) -> float:
        s = 0.0
        last = L
        ids = ctx.ids
        w = self.case_weight
        for i in range(p, q):
            s += self._emit(ctx, last, ids[i], i) + w * ctx.case_score(ids[i], i)
            last = ids[i]
        if R >= 0:
            s += self._emit(ctx, last, R, q)
        return s

    # ---- names -----------------------------------------------------------------------
    def _names(self, ctx: "_Context") -> list[Span]:
        """Capitalised names a synonym or two away from a known name or another on the page."""
        # (a name can only be a synonym away from another if a word in it has a synonym)
        runs = ctx.name_runs
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
        """Spans of a run (3-7 words) that are a synonym or two away from a known name."""
        keys, words = ctx.keys, ctx.words
        strong, ids = ctx.tab.has_strong, ctx.arr
        out = []
        for run in runs:
            n = len(run)
            if n < 3:  # (a match is a prefix of >= 3 words, see _known_name_at)
                continue
            # a window matches only if it holds a word with a strong synonym
            last = n - 1  # (searched from the end: every run has such a word)
            while not strong[ids.item(run[last])]:
                last -= 1
            s = 0
            while s < n:
                if keys[run[s]] in NAME_CONNECTORS:
                    s += 1
                    continue
                if n - s < 3 or s > last:
                    break  # this and later windows: too short, or no such word
                hit = self._known_name_at(ctx, tuple(keys[run[s]:run[min(n, s + 7) - 1] + 1]))
                if hit:
                    length, name = hit
                    a, b = run[s], run[s + length - 1]
                    original = _match_case(words[a:b + 1], " ".join(name))
                    out.append(Span("spun_phrase", ctx.starts_a.item(a), ctx.ends_a.item(b), "",
                                    f"likely original: {original}; known name"))
                    s += length
                else:
                    s += 1
        return out

    def _known_name_at(self, ctx: "_Context", window: tuple[str, ...]):
        """(length, known name) for the longest prefix (>= 3 words) of ``window`` that is
        a synonym variant of a known name, or None; the longest prefix that *is* a known
        name stops the search. Cached per window: the answer depends on the words alone,
        and names recur from page to page."""
        cache = ctx.tab.known_at
        key = (window, self.max_free_name_swaps)
        if key in cache:
            return cache[key]
        known = ctx.ref.known_names
        strong = ctx.tab.has_strong
        vocab = ctx.ref.vocab
        hit = None
        pids_all = [vocab.get(k, -1) for k in window]
        # a prefix needs a word with a strong synonym: it must reach past the first one
        first = next((k for k, p in enumerate(pids_all) if strong[p]), len(window))
        for e in range(len(window), max(2, first), -1):
            if window[e - 1] in NAME_CONNECTORS:
                continue
            phrase = window[:e]
            if phrase in known:
                break
            match = self._match_known(ctx, phrase, pids_all[:e])
            if match:
                hit = (e, match)
                break
        if len(cache) > 200_000:
            cache.clear()
        cache[key] = hit
        return hit

    def _match_known(self, ctx: "_Context", phrase: tuple[str, ...], pids: list[int]):
        """A known name of the same shape differing from ``phrase`` only by synonyms."""
        sk = skeleton(phrase)
        seen: set[tuple[str, ...]] = set()
        n = len(phrase)
        free_ok = self.max_free_name_swaps if n >= 5 else 0
        half = n / 2
        allowed = [self._strong_set(ctx, p) if p >= 0 else frozenset() for p in pids]
        # a match swaps at least one word for a strong synonym: some name of this shape
        # must have one of them at that position
        slots = ctx.tab.name_slots
        if not any(a and not slots.get((sk, j), _EMPTY).isdisjoint(a)
                   for j, a in enumerate(allowed)):
            return None
        content = [t not in NAME_CONNECTORS for t in phrase]
        buckets = ctx.tab.name_buckets
        best = None
        for k, t in enumerate(phrase):
            if not content[k]:
                continue
            bucket = buckets.get((sk, k, t))
            if not bucket:  # (buckets of more than 400 names are left out)
                continue
            for name, low, lid in bucket:
                if name in seen:
                    continue
                seen.add(name)
                n_syn = n_free = n_exact = 0
                for j in range(n):
                    if low[j] == phrase[j]:
                        n_exact += content[j]
                    elif lid[j] in allowed[j]:
                        n_syn += 1
                    else:
                        n_free += 1
                        if n_free > free_ok:
                            break
                else:
                    if n_syn and n_syn + n_free <= half and n_exact:
                        key = (n_free, -n_exact)
                        if best is None or key < best[0]:
                            best = (key, name)
        return best[1] if best else None

    def _page_name_variants(self, ctx: "_Context", runs: list[list[int]]) -> list[Span]:
        """Two names on the page differing by one synonym: the rarer reading is spun."""
        if not self._may_vary(ctx, runs):
            return []
        keys = ctx.keys  # (a tuple: slices are phrases)
        spans: dict[tuple[str, ...], tuple[int, int]] = {}
        for run in runs:  # (a run is a stretch of consecutive positions)
            r0, n = run[0], len(run)
            for s in range(n):
                a = r0 + s
                if keys[a] in NAME_CONNECTORS:
                    continue
                for b in range(a + 1, r0 + min(n, s + 4)):
                    if keys[b] not in NAME_CONNECTORS:
                        spans.setdefault(keys[a:b + 1], (a, b))
        # phrases with one word masked; only groups of two or more can hold a variant
        masked: dict[tuple, list[tuple[str, ...]]] = {}
        entries = []
        for ph in spans:
            for k in range(len(ph)):
                mk = ph[:k] + ("\0",) + ph[k + 1:]
                group = masked.get(mk)
                if group is None:
                    masked[mk] = [ph]
                else:
                    group.append(ph)
                entries.append((ph, k, mk))
        out = []
        vocab = ctx.ref.vocab
        for ph, k, mk in entries:
            group = masked[mk]
            if len(group) < 2:
                continue
            a, b = spans[ph]
            for other in group:
                if other == ph:
                    continue
                wid = vocab.get(ph[k], -1)
                if wid < 0 or vocab.get(other[k], -1) not in self._strong_set(ctx, wid):
                    continue
                if _name_support(ctx, other) > _name_support(ctx, ph):
                    original = _match_case(ctx.words[a:b + 1], " ".join(other))
                    out.append(Span("spun_phrase", ctx.starts_a.item(a), ctx.ends_a.item(b), "",
                                    f"likely original: {original}; name variant on "
                                    "this page"))
        return out

    def _may_vary(self, ctx: "_Context", runs: list[list[int]]) -> bool:
        """Can ``_page_name_variants`` find anything? A variant is two phrases of the runs
        (2-4 words) equal but for one position, where one has a word and the other a strong
        synonym of it: so two known words x, y of the runs, y a strong synonym of x, whose
        left neighbours or whose right neighbours have the same key. Without such a pair
        (nearly every page) the phrase search is skipped; it finds nothing there.

        First the words of the runs with a strong synonym among them (none on most pages),
        then only the positions of those words and of those synonyms are paired."""
        item = ctx.arr.item  # (the runs hold a few dozen positions: no list of all ids)
        present = {item(i) for run in runs for i in run}
        present.discard(-1)
        related: set[int] = set()
        for w in present:
            syn = self._strong_set(ctx, w)
            if not syn.isdisjoint(present):  # (the relation is not symmetric: keep both)
                related.add(w)
                related |= syn & present
        if not related:
            return False
        keys = ctx.keys
        last = len(keys) - 1
        pos = [i for run in runs for i in run if item(i) in related]
        for x in pos:
            syn = self._strong_set(ctx, item(x))
            for y in pos:
                if item(y) in syn and (
                        (x > 0 and y > 0 and keys[x - 1] == keys[y - 1])
                        or (x < last and y < last and keys[x + 1] == keys[y + 1])):
                    return True
        return False

    # ---- tortured phrases -------------------------------------------------------------
    def _tortured(self, ctx: "_Context") -> list[Span]:
        out = []
        table = ctx.ref.tortured
        keys, brk = ctx.keys, ctx.brk
        n = len(keys)
        if n < 2:
            return out
        # only pairs that begin a tortured phrase are worth a look: pairs of known words
        # are matched by pair key (one batch), pairs with an unknown word by name
        # (found in the compiled column pass, ``spin_lattice.columns``)
        tab = ctx.tab
        starts = ctx.tort.tolist()
        unknown = ctx.unk_pair.tolist()
        if unknown:
            first = tab.tortured_first
            starts = sorted(starts + [i for i in unknown if keys[i] in first])
        for i in starts:
            if brk.item(i + 1):
                continue
            entries = table.get(keys[i] + " " + keys[i + 1])
            if not entries:
                continue
            for phrase, good in entries:
                j = i + len(phrase)
                if j <= n and tuple(keys[i:j]) == phrase and not brk[i + 1:j].any():
                    out.append(Span("spun_phrase", ctx.starts_a.item(i), ctx.ends_a.item(j - 1), "",
                                    f"likely original: {good}; tortured phrase"))
        return out


def _word_code(w: str, vocab: dict[str, int], codes_of: dict[str, int],
               keys_of: dict[str, str]) -> int:
    """Cache what the page columns need of word ``w`` (``lm_key``, ``_case_row`` and the
    name-part test, inlined) as one int: (id + 1) << 8 | case if mid-sentence + 1 |
    content << 2 | capitalised content << 3 | name part << 4 | capitalised and more than
    two letters << 5; and its vocabulary key. The key is stored first: a thread that sees
    the code finds the key too."""
    digit = _DIGIT_RE.search(w)
    key = "#" if digit else w.lower().replace("’", "'")
    first = w[:1]
    up = first.isupper()
    content = int(w not in NAME_CONNECTORS)
    case = (1 if up else 0) if first.isalpha() else -1
    keys_of[w] = key
    code = codes_of[w] = ((vocab.get(key, -1) + 1) << 8 | (case + 1) | content << 2
                          | int(content and up) << 3 | int(up and not digit) << 4
                          | int(up and len(w) > 2) << 5)
    return code


class _WordTable:
    """Every word seen on a page -> its ``_word_code``, looked up inside the compiled
    tokeniser (``spin_lattice.page_codes``).

    The dictionary ``_Tables.word_code`` did the same from Python, one probe per word of
    the page after making each word a string: about a fifth of the extractor's time. Here
    a word is hashed from its code points and confirmed by comparing them with the stored
    ones, so a code is only ever that of the very same word: the outputs cannot change.
    Only new words reach Python, where ``_word_code`` computes their codes as before.

    Readers take no lock. Writers (under ``_lock``) append entries beyond those any slot
    points to and then link them (``add_words``, then ``link_words``: a reader sees no
    slot or a complete entry); when the arrays must grow, or after ``MAX_ENTRIES`` words
    (the bound of the old dictionary), a new set of arrays is built and swapped in whole,
    so a reader holding the old set still reads consistent arrays.
    """

    #: 100,000 (was 500,000): a hostile stream of new words filled the table, its word
    #: dictionaries and their strings with ~250 MB before the bound (issue 19)
    MAX_ENTRIES = 100_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget every word (a fresh, empty set of arrays)."""
        self._publish(1 << 15, 1 << 14, 1 << 17, 0, 0)

    def _publish(self, n_slots: int, n_entries: int, n_chars: int, n: int,
                 n_chars_used: int, old: tuple | None = None) -> None:
        """Swap in new arrays of the given sizes holding the first ``n`` entries of ``old``
        (re-linked into the new slots)."""
        slots = np.zeros(2 * n_slots, dtype=np.uint64)  # (hash, entry + 1) pairs
        ents = np.zeros((n_entries, 3), dtype=np.int64)  # rows (offset, length, code)
        chars = np.zeros(n_chars, dtype=np.uint32)
        if old is not None and n:
            _s, o_ents, o_chars = old
            ents[:n] = o_ents[:n]
            chars[:n_chars_used] = o_chars[:n_chars_used]
            link_words(slots, ents, chars, 0, n)
        self.n, self.n_chars = n, n_chars_used
        self.arrays = (slots, ents, chars)

    def codes(self, cp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, gap flags, codes) of the tokens of a page given as code points (all
        below 65536); code -1 for a word not in the table."""
        slots, ents, chars = self.arrays
        return page_codes(cp, _char_classes(), slots, ents, chars)

    def add(self, cp: np.ndarray, w_start: np.ndarray, w_end: np.ndarray,
            w_code: np.ndarray) -> None:
        """Add the distinct words ``cp[w_start[k]:w_end[k]]`` with their codes. (A word
        another thread added meanwhile gets a second entry that no slot points to.)"""
        k = len(w_start)
        if not k:
            return
        n_new = int((w_end - w_start).sum())
        with self._lock:
            if self.n + k > self.MAX_ENTRIES:
                self.clear()
            slots, ents, chars = self.arrays
            n, used = self.n + k, self.n_chars + n_new
            if 4 * n > len(slots) or n > len(ents) or used > len(chars):
                def grow(size: int, need: int) -> int:
                    return size if need <= size else grow(2 * size, need)
                self._publish(grow(len(slots) // 2, 2 * n), grow(len(ents), n),
                              grow(len(chars), used), self.n, self.n_chars, self.arrays)
                slots, ents, chars = self.arrays
            add_words(cp, w_start, w_end, w_code, ents, chars, self.n, self.n_chars)
            link_words(slots, ents, chars, self.n, n)
            self.n, self.n_chars = n, used


class _PageWords(Sequence):
    """The words of a page, sliced from its text when asked for: most pages need only a
    few of them (the spans' words, unknown words' keys), so the list is never made."""

    __slots__ = ("_text", "_ctx")

    def __init__(self, text: str, ctx: "_Context"):
        self._text, self._ctx = text, ctx

    def __len__(self) -> int:
        return len(self._ctx.starts_a)

    def __getitem__(self, i):
        ctx, text = self._ctx, self._text
        a, b = ctx.starts_a.item, ctx.ends_a.item
        if isinstance(i, slice):  # (a span's words: one to a few; no array slices)
            return [text[a(k):b(k)] for k in range(*i.indices(len(ctx.starts_a)))]
        return text[a(i):b(i)]


class _ListOnFirstUse:
    """A per-word column of :class:`_Context` as a Python list, made from its numpy array
    (``array``, without its last element with ``drop_last``) on first use and kept in the
    slot ``store``: the compiled decoder needs none of these lists, and the Python code on a
    typical page reads a few dozen positions, from the arrays."""

    def __init__(self, array: str, store: str, drop_last: bool = False):
        self.array, self.store, self.drop_last = array, store, drop_last

    def __get__(self, ctx: "_Context | None", owner: type | None = None):
        if ctx is None:
            return self
        got = getattr(ctx, self.store)
        if got is None:
            column = getattr(ctx, self.array)
            got = (column[:-1] if self.drop_last else column).tolist()
            setattr(ctx, self.store, got)
        return got


class _Context:
    """Everything one page's scoring needs, computed once.

    The per-word columns are numpy arrays (``arr`` ids, ``brk`` breaks, ``case_arr`` case
    observations with -1 appended, ``name_like``, ``starts_a``/``ends_a``/``flags_a``);
    of the Python sequences the rest of the code indexes one word at a time, ``keys`` and
    ``words`` are made once, the lists (``ids``, ``breaks``, ``case``, ``flags``,
    ``starts``, ``ends``) on first use: the compiled decoder needs none of them, and the
    Python code on a typical page reads a few dozen positions (from the arrays).
    """

    __slots__ = ("ref", "tab", "words", "keys", "bigram", "V", "confirmed",
                 "emits", "stride", "arr", "brk", "case_arr", "name_like", "name_runs",
                 "unk_phrase", "tort", "unk_pair", "rare", "starts_a", "ends_a", "flags_a",
                 "_ids", "_breaks", "_case", "_flags", "_starts", "_ends")

    def __init__(self, ref: SpinReference, tab: _Tables, words: list[str],
                 starts: np.ndarray, ends: np.ndarray, flags: np.ndarray, keys: tuple[str, ...],
                 ids: np.ndarray, case: np.ndarray, brk: np.ndarray, name_like: np.ndarray,
                 name_runs: list[range]):
        self.ref, self.tab, self.words, self.keys = ref, tab, words, keys
        self.starts_a, self.ends_a, self.flags_a = starts, ends, flags
        self.arr, self.case_arr, self.brk, self.name_like = ids, case, brk, name_like
        self.bigram = ref.bigram
        self.V = len(ref.words)
        #: observed word keys -> original ids of swaps flagged on this page
        self.confirmed: dict[tuple[str, ...], tuple[int, ...]] = {}
        #: memo of emission scores, keyed by (a * V + b) * stride + position + 1
        self.emits: dict[int, float] = {}
        self.stride = len(starts) + 2
        #: the capitalised runs (``capitalised_runs``) with a word that has a strong synonym
        self.name_runs = name_runs
        self._ids = self._breaks = self._case = self._flags = self._starts = self._ends = None
        #: positions i where (i, i + 1) is a phrase's first word then an unknown word,
        #: a known pair starting a tortured phrase, a pair with an unknown word
        self.unk_phrase = self.tort = self.unk_pair = _NO_INTS
        #: _rare_synonym_frac of the page
        self.rare = 0.0

    #: per word: its vocabulary id, -1 if unknown
    ids = _ListOnFirstUse("arr", "_ids")
    #: per word: a break (``_BREAK_RE``) before it
    breaks = _ListOnFirstUse("brk", "_breaks")
    #: per word: 1 capitalised mid-sentence, 0 lower case, -1 unknown (_case_of)
    case = _ListOnFirstUse("case_arr", "_case", drop_last=True)
    #: per word: the break / sentence / newline bits of the gap before it
    flags = _ListOnFirstUse("flags_a", "_flags")
    starts = _ListOnFirstUse("starts_a", "_starts")
    ends = _ListOnFirstUse("ends_a", "_ends")

    @classmethod
    def of(cls, text: str, ref: SpinReference, tab: _Tables) -> "_Context":
        """Tokenise a page; per-word facts come from a cache keyed by the word itself
        (``_word_code``, its vocabulary key in ``tab.word_key``), the page's columns from
        one compiled pass over the codes (``spin_lattice.columns``)."""
        cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        if text and (text.isascii() or int(cp.max()) < 65536):
            return cls._of_table(text, cp, ref, tab)
        words, starts, ends, flags = _split_words_arrays(text)
        codes_of, keys_of = tab.word_code, tab.word_key
        try:
            codes = np.fromiter(map(codes_of.__getitem__, words), dtype=np.int64,
                                count=len(words))
        except KeyError:
            if len(codes_of) > _WordTable.MAX_ENTRIES:  # bound the cache on endless streams of new words
                codes_of.clear()
                keys_of.clear()
            vocab, get = ref.vocab, codes_of.get

            def code(w: str) -> int:
                c = get(w)
                return c if c is not None else _word_code(w, vocab, codes_of, keys_of)

            codes = np.fromiter(map(code, words), dtype=np.int64, count=len(words))
        return cls._finish(text, words, starts, ends, flags, codes, ref, tab)

    @classmethod
    def _of_table(cls, text: str, cp: np.ndarray, ref: SpinReference,
                  tab: _Tables) -> "_Context":
        """``of`` for a text within the Basic Multilingual Plane: tokens and cached codes in
        one compiled pass (``_WordTable``); only words new to the table are made strings
        and coded in Python (``_word_code``, also kept in ``tab.word_code``)."""
        starts, ends, flags, codes = tab.words.codes(cp)
        miss = (codes < 0).nonzero()[0]
        if len(miss):
            codes_of, keys_of = tab.word_code, tab.word_key
            if len(codes_of) > _WordTable.MAX_ENTRIES:  # bound the cache on endless streams of new words
                codes_of.clear()
                keys_of.clear()
            vocab = ref.vocab
            new: dict[str, tuple[int, int, int]] = {}
            for i, a, b in zip(miss.tolist(), starts[miss].tolist(), ends[miss].tolist()):
                w = text[a:b]
                got = new.get(w)
                if got is None:
                    c = codes_of.get(w)
                    if c is None:
                        c = _word_code(w, vocab, codes_of, keys_of)
                    got = new[w] = (a, b, c)
                codes[i] = got[2]
            rows = np.array(list(new.values()), dtype=np.int64).reshape(-1, 3)
            tab.words.add(cp, rows[:, 0].copy(), rows[:, 1].copy(), rows[:, 2].copy())
        return cls._finish(text, None, starts, ends, flags, codes, ref, tab)

    @classmethod
    def _finish(cls, text: str, words: list[str] | None, starts: np.ndarray,
                ends: np.ndarray, flags: np.ndarray, codes: np.ndarray, ref: SpinReference,
                tab: _Tables) -> "_Context":
        """The context from the tokens and their codes (``words`` None: sliced from the
        text on demand, ``_PageWords``)."""
        keys_of = tab.word_key
        A = tab.arr
        (ids, case, brk, name_like, run_a, run_b, unk_phrase, tort, unk_pair, n_syn,
         n_rare) = columns(codes, flags, A["has_strong"], tab.phrase_first, A["tortured"],
                           len(ref.words), tab.gap)
        ctx = cls(ref, tab, words, starts, ends, flags, (), ids, case, brk, name_like,
                  [range(a, b + 1) for a, b in zip(run_a.tolist(), run_b.tolist())])
        if words is None:
            ctx.words = words = _PageWords(text, ctx)
        # lm keys: a known word's key is its vocabulary entry (one C-level gather), an
        # unknown word's comes from the cache
        if len(words) > 1:
            keys = tab.words_obj[ids].tolist()
            unk = (ids < 0).nonzero()[0]
            for i, a, b in zip(unk.tolist(), starts[unk].tolist(), ends[unk].tolist()):
                w = text[a:b]  # (== words[i]: offsets index the text)
                keys[i] = keys_of.get(w) or lm_key(w)  # (cache just cleared)
        else:
            keys = [lm_key(w) for w in words]
        ctx.keys = tuple(keys)  # (a tuple: slices are phrases)
        ctx.unk_phrase, ctx.tort, ctx.unk_pair = unk_phrase, tort, unk_pair
        ctx.rare = (n_rare / n_syn) if n_syn else 0.0
        return ctx

    def case_score(self, wid: int, i: int) -> float:
        """log P(the capitalisation seen at word i | word id); 0 where capitals say nothing.

        A spinner keeps the capitals of the word it replaces, so "in Could" keeps the
        capital of the month "May", which the modal "could" almost never has.
        """
        c = self.case[i]
        if c < 0 or wid < 0:
            return 0.0
        return self.tab.log_cap[wid] if c else self.tab.log_low[wid]

    def cnt(self, a: int, b: int) -> int:
        """Reference count of the pair (a, b); 0 for unknown words."""
        if a < 0 or b < 0:
            return 0
        return self.bigram.get(a * self.V + b, 0)


def _is_compound(ctx: _Context, a: int, b: int) -> bool:
    """Is "a b" (two known single words) a WordNet multi-word expression (a thesaurus
    key)? One set probe: the pair keys of all two-word keys are built with the tables."""
    return a * ctx.V + b in ctx.tab.compound


def _name_support(ctx: _Context, phrase: tuple[str, ...]) -> int:
    """How well the reference knows a name: its rarest bigram count (0 if unknown)."""
    vocab = ctx.ref.vocab
    pids = [vocab.get(w, -1) for w in phrase]
    if phrase in ctx.ref.known_names:
        return 10 ** 6
    return min(ctx.cnt(a, b) for a, b in zip(pids, pids[1:]))


def _runs(ends: dict[int, int], breaks: list[bool]) -> list[tuple[int, int]]:
    """Maximal stretches of tokens covered by options (start -> furthest end), joined when
    adjacent, cut at breaks."""
    runs: list[tuple[int, int]] = []
    p = q = -1
    for i in sorted(ends):
        e = ends[i]
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
    return ctx.rare  # (counted in the compiled column pass, ``spin_lattice.columns``)


def _merge(spans: list[Span]) -> list[Span]:
    """Drop spans overlapping an earlier (higher-priority) span; sort by position."""
    kept: list[Span] = []
    for s in spans:
        if any(k.start < s.end and s.start < k.end for k in kept):
            continue
        kept.append(s)
    return sorted(kept, key=lambda s: (s.start, s.end))
