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
#: Lower-case connectors allowed inside a capitalised name ("Center for ... and ...").
NAME_CONNECTORS = frozenset({"of", "for", "and", "the", "de", "on", "in", "&"})


def lm_key(word: str) -> str:
    """The language-model form of a token: lower case, straight apostrophe, digits -> '#'."""
    if _DIGIT_RE.search(word):
        return "#"
    return word.lower().replace("’", "'")


def tokenize(text: str) -> list[tuple[int, int, str, bool]]:
    """(start, end, word, break_before) for every word; ``break_before`` ends a bigram run.

    The break flag is what keeps "... said. Trade ..." from counting as the pair "said trade".
    """
    out: list[tuple[int, int, str, bool]] = []
    prev_end = -1
    for m in WORD_RE.finditer(text):
        s, e = m.span()
        if prev_end < 0:
            brk = True
        else:
            gap = text[prev_end:s]
            brk = gap != " " and bool(_BREAK_RE.search(gap))
        out.append((s, e, m.group(), brk))
        prev_end = e
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
