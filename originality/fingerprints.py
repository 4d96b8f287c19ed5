"""Fingerprints of a page under the three matching methods, as sorted ``uint32`` hash sets.

Why three: a content farm either copies (word shingles survive), spins (a synonym spinner
replaces content words but keeps function words, names and numbers: the *immutables* of
DSpin, Zhang et al., NDSS 2014), or paraphrases (every sentence changes, but the quotes,
names and numbers of the source stay). Each method turns a page into a set of 32-bit
hashes; sets are compared exactly (Jaccard / containment) and MinHash-sketched for LSH.

Hashes must be stable across processes and machines (an index built today is queried by
another replica tomorrow), so words are hashed with CRC-32, never Python's ``hash``.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from features.document import WORD_RE, Document

#: Word shingle length for copies: 5 words is specific enough that two independent news
#: articles rarely share one, short enough that light edits leave most shingles intact.
SHINGLE_WORDS = 5
#: Immutable shingle length. Immutables are mostly function words, so a run of 5 of them
#: ("of the", "on the") is common; it is their *sequence with names and numbers* that is
#: specific. Measured on the seeds and BBC (see training/eval_originality.py).
IMMUTABLE_WORDS = 5
#: Words per shingle inside quoted speech.
QUOTE_WORDS = 3

_U32 = np.uint64(0xFFFFFFFF)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTE_RE = re.compile(r"[\"“”]([^\"“”\n]{8,600})[\"“”]")
_SENTENCE_GAP_RE = re.compile(r"[.!?:;\n•|]")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Function words a synonym spinner leaves alone (scikit-learn's English list).

    scikit-learn is already a project dependency and its list is the standard one; a
    few content words in it ("fire", "bill") only make immutables slightly less strict.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def word_hash(word: str) -> int:
    """Stable 32-bit hash of a word (CRC-32: fast, in the standard library)."""
    return zlib.crc32(word.encode("utf-8"))


def _mix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 finaliser: spreads combined word hashes over all 64 bits."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(33))
        h = h * _MIX1
        h = h ^ (h >> np.uint64(33))
        h = h * _MIX2
        h = h ^ (h >> np.uint64(33))
    return h


def shingle_hashes(token_hashes: np.ndarray, k: int, salt: int = 0) -> np.ndarray:
    """Hash of every run of ``k`` consecutive tokens (position-aligned, unsorted).

    A page shorter than ``k`` tokens yields one shingle of all its tokens, so short pages
    still have a fingerprint.
    """
    n = len(token_hashes)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    t = token_hashes.astype(np.uint64)
    k = min(k, n)
    m = n - k + 1
    acc = np.full(m, np.uint64(salt * 0x9E3779B97F4A7C15 % 2**64 + k), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            acc = _mix64(acc ^ t[j:j + m])
    return (acc >> np.uint64(32)).astype(np.uint32)


@dataclass(slots=True)
class Tokens:
    """Words of a page with their character spans in ``doc.norm``."""

    lower: list[str]
    starts: np.ndarray
    ends: np.ndarray
    capital: np.ndarray  # starts with an upper-case letter
    initial: np.ndarray  # first word of a sentence or line


def tokenize(norm: str) -> Tokens:
    """Lower-cased words (curly apostrophes folded) with spans and capitalisation."""
    lower: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    capital: list[bool] = []
    initial: list[bool] = []
    prev_end = 0
    for m in WORD_RE.finditer(norm):
        w = m.group()
        s, e = m.span()
        lower.append(w.lower().replace("’", "'"))
        starts.append(s)
        ends.append(e)
        capital.append(w[0].isupper())
        initial.append(prev_end == 0 or bool(_SENTENCE_GAP_RE.search(norm, prev_end, s)))
        prev_end = e
    return Tokens(lower, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64),
                  np.asarray(capital, dtype=bool), np.asarray(initial, dtype=bool))


def _is_number(word: str) -> bool:
    return any(c.isdigit() for c in word)


@dataclass(slots=True)
class Fingerprint:
    """The three hash sets of a page, plus what is needed to point at matched text.

    ``*_pos`` arrays are aligned with the unsorted shingle sequence and give, for each
    shingle, the first and last word index it covers (for evidence spans).
    """

    text_hash: bytes
    n_words: int
    shingles: np.ndarray  # sorted unique uint32
    immutables: np.ndarray
    nnq: np.ndarray
    sh_seq: np.ndarray | None = None  # unsorted, position-aligned
    im_seq: np.ndarray | None = None
    im_words: np.ndarray | None = None  # word index of each immutable token
    nnq_seq: np.ndarray | None = None
    nnq_spans: np.ndarray | None = None  # (n, 2) char spans of each nnq item
    tokens: Tokens | None = None


def text_hash(norm: str) -> bytes:
    """Identity of a text up to white space: identical pages share it."""
    return hashlib.sha1(" ".join(norm.split()).encode("utf-8")).digest()


def _nnq_items(norm: str, tok: Tokens, stops: frozenset[str]) -> tuple[list[int], list[tuple[int, int]]]:
    """Names (capitalised, not sentence-initial, not function words), numbers, quote 3-grams."""
    items: list[int] = []
    spans: list[tuple[int, int]] = []
    for i, w in enumerate(tok.lower):
        if _is_number(w):
            continue  # numbers come from _NUMBER_RE so "1,000" and "1000" agree
        if tok.capital[i] and not tok.initial[i] and w not in stops and len(w) > 1:
            items.append(word_hash("n:" + w))
            spans.append((int(tok.starts[i]), int(tok.ends[i])))
    for m in _NUMBER_RE.finditer(norm):
        num = m.group().replace(",", "")
        items.append(word_hash("d:" + num))
        spans.append(m.span())
    for m in _QUOTE_RE.finditer(norm):
        qs, qe = m.span(1)
        sel = (tok.starts >= qs) & (tok.ends <= qe)
        idx = np.flatnonzero(sel)
        if len(idx) < QUOTE_WORDS:
            continue
        qh = np.fromiter((word_hash(tok.lower[i]) for i in idx), dtype=np.uint64, count=len(idx))
        for j, h in enumerate(shingle_hashes(qh, QUOTE_WORDS, salt=3)):
            items.append(int(h))
            spans.append((int(tok.starts[idx[j]]), int(tok.ends[idx[j + QUOTE_WORDS - 1]])))
    return items, spans


def fingerprint(doc: Document | str, keep_positions: bool = False) -> Fingerprint:
    """All three fingerprints of a page; with ``keep_positions`` also what evidence needs."""
    norm = doc.norm if isinstance(doc, Document) else doc
    tok = tokenize(norm)
    stops = stop_words()
    wh = np.fromiter((word_hash(w) for w in tok.lower), dtype=np.uint64, count=len(tok.lower))
    sh_seq = shingle_hashes(wh, SHINGLE_WORDS, salt=1)
    im_mask = np.fromiter(
        ((w in stops) or tok.capital[i] or _is_number(w) for i, w in enumerate(tok.lower)),
        dtype=bool, count=len(tok.lower))
    im_words = np.flatnonzero(im_mask)
    im_seq = shingle_hashes(wh[im_words], IMMUTABLE_WORDS, salt=2)
    items, spans = _nnq_items(norm, tok, stops)
    nnq_seq = np.asarray(items, dtype=np.uint32)
    fp = Fingerprint(
        text_hash=text_hash(norm), n_words=len(tok.lower),
        shingles=np.unique(sh_seq), immutables=np.unique(im_seq), nnq=np.unique(nnq_seq))
    if keep_positions:
        fp.sh_seq, fp.im_seq, fp.im_words = sh_seq, im_seq, im_words
        fp.nnq_seq = nnq_seq
        fp.nnq_spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        fp.tokens = tok
    return fp
