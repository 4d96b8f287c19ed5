"""Fingerprints of a page under the three matching methods, as sorted ``uint32`` hash sets.

Why three: a content farm either copies (word shingles survive), spins (a synonym spinner
replaces content words but keeps function words, names and numbers: the *immutables* of
DSpin, Zhang et al., NDSS 2014), or paraphrases (every sentence changes, but the quotes,
names and numbers of the source stay). Each method turns a page into a set of 32-bit
hashes that is compared exactly (containment, Jaccard) once a candidate is found.

The names-numbers-quotes ("nnq") fingerprint is weighted: sharing "Bessent", "Merdeka" and
"118" is strong evidence, sharing "London" and "2" is not. Weights come from word rarity
(wordfreq, already a project dependency). Besides single items it keeps *pairs* of items
that occur close together, because a paraphrase keeps facts together ("Bessent ... Geneva
... 90-day") while an unrelated article on the same topic mentions the same names apart.

Hashes must be stable across processes and machines (an index built today is queried by
another replica tomorrow), so words are hashed with CRC-32, never Python's ``hash``.
"""

from __future__ import annotations

import hashlib
import math
import operator
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from features.document import WORD_RE, Document

#: Word shingle length for copies: 5 words is specific enough that two independent news
#: articles rarely share one, short enough that light edits leave most shingles intact.
SHINGLE_WORDS = 5
#: Immutable shingle length (DSpin uses runs of immutables; 5 keeps "of the" noise low).
IMMUTABLE_WORDS = 5
#: Words per shingle inside quoted speech.
QUOTE_WORDS = 3
#: nnq items this close (in item order) form a pair.
PAIR_WINDOW = 4
#: Content words at least this rare (6.5 minus the Zipf frequency: "tariff" 2.7, "officials"
#: 1.9, "said" 0.3) are a page's *terms*, stored so that a query can ask how much of a
#: candidate's vocabulary it retells (see :func:`term_hashes`).
TERM_MIN_RARITY = 1.5
_TERM_SUFFIXES = ("'s", "ies", "ing", "ed", "es", "s", "ly")

_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTE_RE = re.compile(r"[\"“”]([^\"“”\n]{8,600})[\"“”]")
_SENTENCE_END_RE = re.compile(r"[.!?:;\n•|]")
_NEWLINE_RE = re.compile(r"\n")

#: Weight of an nnq item by kind; names get a rarity weight instead (see name_weight).
QUOTE_WEIGHT = 1.5
SHORT_NUMBER_WEIGHT = 1.0  # "1", "10": common
LONG_NUMBER_WEIGHT = 2.0  # "118", "2020", "55.5"


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Function words a synonym spinner leaves alone (scikit-learn's English list).

    scikit-learn is already a project dependency and its list is the standard one; a
    few content words in it ("fire", "bill") only make immutables slightly less strict.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@lru_cache(maxsize=1)
def _word_frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en")


@lru_cache(maxsize=1 << 16)
def name_weight(word: str) -> float:
    """Rarity of a name: 6.5 minus its Zipf frequency, floored at 0.5.

    Unknown words ("bessent") weigh 6.5, "trump" about 1.6, "london" about 1.5. A direct
    dictionary lookup (not ``zipf_frequency``, 40 us a call) keeps queries fast.
    """
    f = _word_frequencies().get(word)
    zipf = math.log10(f) + 9.0 if f else 0.0
    return max(0.5, 6.5 - zipf)


def term_stem(word: str) -> str:
    """A crude stem of a lower-cased word: one plural, tense or adverb ending off, then at
    most 7 letters ("tariffs" and "tariff", "threatened" and "threatens" agree). A retelling
    changes word forms; it rarely changes a word's first seven letters."""
    for suf in _TERM_SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 4:
            word = word[: -len(suf)]
            break
    return word[:7]


@lru_cache(maxsize=1 << 17)
def _term_hash(word: str) -> int:
    """Hash of a lower-cased word's stem if it is a term (alphabetic, not a function word,
    rare enough), else -1."""
    if not word.isalpha() or word in stop_words() or name_weight(word) < TERM_MIN_RARITY:
        return -1
    return zlib.crc32(("t:" + term_stem(word)).encode("utf-8"))


def term_hashes(lower: list[str]) -> np.ndarray:
    """The page's terms (see ``TERM_MIN_RARITY``) as sorted unique uint32 hashes.

    Why: a rewrite, a translation or a summary *retells* its source, so it reuses most of the
    source's content vocabulary in new sentences, where word shingles and immutables die.
    A follow-up story on the same subject reuses only its background paragraphs' words.
    """
    h = np.fromiter(map(_term_hash, lower), dtype=np.int64, count=len(lower))
    return np.unique(h[h >= 0]).astype(np.uint32)


def word_hash(word: str) -> int:
    """Stable 32-bit hash of a word (CRC-32: fast, in the standard library)."""
    return zlib.crc32(word.encode("utf-8"))


def _mix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 finaliser: spreads combined word hashes over all 64 bits."""
    h = h ^ (h >> _S33)
    h = h * _MIX1
    h = h ^ (h >> _S33)
    h = h * _MIX2
    return h ^ (h >> _S33)


def shingle_hashes(token_hashes: np.ndarray, k: int, salt: int = 0) -> np.ndarray:
    """Hash of every run of ``k`` consecutive tokens (position-aligned, unsorted).

    A sequence shorter than ``k`` yields one shingle of all its tokens, so short pages
    still have a fingerprint. ``salt`` keeps the methods' hash spaces apart.
    """
    n = len(token_hashes)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    t = token_hashes.astype(np.uint64)
    k = min(k, n)
    m = n - k + 1
    acc = np.full(m, np.uint64((salt * 0x9E3779B97F4A7C15 + k) % 2**64), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            acc = _mix64(acc ^ t[j:j + m])
    return (acc >> np.uint64(32)).astype(np.uint32)


@dataclass(slots=True)
class Tokens:
    """Words of a page (lower-cased, curly apostrophes folded) with spans in ``doc.norm``."""

    lower: list[str]
    starts: np.ndarray
    ends: np.ndarray
    capital: list[bool]  # starts with an upper-case letter
    initial: np.ndarray  # first word of a sentence or line (capitalised for grammar)
    number: list[bool]  # contains a digit


def tokenize(norm: str) -> Tokens:
    """Words with spans, capitalisation and sentence-initial flags in one pass.

    Per-word work goes through ``map`` over C methods and one ``lower()`` of all words
    joined by spaces (the same as lower-casing each word: a space ends a word for the
    final-sigma rule too): this runs for every query, so it is kept off the interpreter.
    """
    matches = list(WORD_RE.finditer(norm))
    n = len(matches)
    words = list(map(_GROUP, matches))
    starts = np.fromiter(map(_START, matches), dtype=np.int64, count=n)
    ends = np.fromiter(map(_END, matches), dtype=np.int64, count=n)
    bounds = np.fromiter((m.start() for m in _SENTENCE_END_RE.finditer(norm)), dtype=np.int64)
    initial = np.ones(n, dtype=bool)
    if n > 1:
        # word i is initial when a sentence end lies between the previous word and it
        initial[1:] = np.searchsorted(bounds, starts[1:]) > np.searchsorted(bounds, ends[:-1])
    lower = " ".join(words).lower().replace("’", "'").split(" ") if n else []
    capital = list(map(str.isupper, map(_FIRST, words)))
    number = [not alpha and _DIGIT_RE.search(w) is not None
              for w, alpha in zip(lower, map(str.isalpha, lower))]
    return Tokens(lower, starts, ends, capital, initial, number)


_GROUP, _START, _END = re.Match.group, re.Match.start, re.Match.end
_FIRST = operator.itemgetter(0)
_DIGIT_RE = re.compile(r"\d")


def text_hash(norm: str) -> bytes:
    """Identity of a text up to white space: identical pages share it."""
    return hashlib.sha1(" ".join(norm.split()).encode("utf-8")).digest()


@dataclass(slots=True)
class NNQ:
    """Names, numbers and quote shingles of a page, in text order, with weights."""

    items: np.ndarray  # uint32 hash per occurrence, text order
    weights: np.ndarray  # float per occurrence
    spans: np.ndarray  # (n, 2) char spans
    numbers: np.ndarray | None = None  # sorted unique uint32 hashes of the numbers alone


def title_line_words(norm: str, tok: Tokens, stop: np.ndarray) -> np.ndarray:
    """Which words sit on a title-case line (a heading), where capitals mark no names.

    A line is a heading when it does not end a sentence with a period and at least 60 %
    of its content words (not function words, not numbers) are capitalised: "Why This
    Matters", "Leave a Reply", "Trade Flashpoints and Past Agreements". Generated rewrites
    wrap their source in such headings; counted as names they would look like facts of the
    page's own and hide that every real name comes from the source.
    """
    n = len(tok.lower)
    if not n:
        return np.zeros(0, dtype=bool)
    breaks = np.fromiter((m.start() for m in _NEWLINE_RE.finditer(norm)), dtype=np.int64)
    line = np.searchsorted(breaks, tok.starts)
    n_lines = len(breaks) + 1
    content = ~stop & ~np.asarray(tok.number, dtype=bool)
    caps = content & np.asarray(tok.capital, dtype=bool)
    n_content = np.bincount(line, weights=content, minlength=n_lines)
    n_caps = np.bincount(line, weights=caps, minlength=n_lines)
    # does the line end a sentence with a period (its last character but spaces)?
    ends = [*breaks.tolist(), len(norm)]
    begins = [0, *(e + 1 for e in ends[:-1])]
    period = np.fromiter((norm[a:b].rstrip().endswith(".") for a, b in zip(begins, ends)),
                         dtype=bool, count=n_lines)
    heading = (n_caps >= 1) & (n_caps >= 0.6 * n_content) & ~period
    return heading[line]


def name_key(word: str) -> str:
    """A name's form for matching: the possessive dropped ("Lumpur's" is "Lumpur")."""
    return word[:-2] if word.endswith("'s") and len(word) > 3 else word


def nnq_items(norm: str, tok: Tokens, word_hashes: np.ndarray | None = None,
              stop: np.ndarray | None = None) -> NNQ:
    """Names (capitalised, not sentence-initial, not function words, not on a heading
    line), numbers, quote 3-grams.

    ``word_hashes`` (:func:`word_hash` of every ``tok.lower``, as uint64) and ``stop``
    (:func:`_stop_mask` of them), when the caller has them already, are not recomputed.
    """
    if stop is None:
        stop = _stop_mask(tok.lower)
    names = np.flatnonzero(np.asarray(tok.capital, dtype=bool) & ~tok.initial
                           & (_word_lengths(tok.lower) > 1) & ~stop
                           & ~np.asarray(tok.number, dtype=bool)
                           & ~title_line_words(norm, tok, stop))
    lower = tok.lower
    name_words = [name_key(lower[i]) for i in names.tolist()]
    starts = [tok.starts[names]]
    ends = [tok.ends[names]]
    hashes = [np.fromiter(map(zlib.crc32, map(str.encode, map("n:".__add__, name_words))),
                          np.int64, len(names))]
    weights = [np.fromiter(map(name_weight, name_words), np.float64, len(names))]
    found = list(_NUMBER_RE.finditer(norm))
    # "1,000" and "1000" agree
    digits = [m.group().replace(",", "") for m in found]
    starts.append(np.fromiter(map(_START, found), np.int64, len(found)))
    ends.append(np.fromiter(map(_END, found), np.int64, len(found)))
    number_hashes = np.fromiter(map(zlib.crc32, map(str.encode, map("d:".__add__, digits))),
                                np.int64, len(found))
    hashes.append(number_hashes)
    weights.append(np.where(np.fromiter(map(len, digits), np.int64, len(found)) > 2,
                            LONG_NUMBER_WEIGHT, SHORT_NUMBER_WEIGHT).astype(np.float64))
    for m in _QUOTE_RE.finditer(norm):
        qs, qe = m.span(1)
        lo, hi = np.searchsorted(tok.starts, qs), np.searchsorted(tok.ends, qe, side="right")
        if hi - lo < QUOTE_WORDS:
            continue
        if word_hashes is not None:
            qh = word_hashes[lo:hi]
        else:
            qh = np.fromiter((word_hash(w) for w in tok.lower[lo:hi]), dtype=np.uint64,
                             count=hi - lo)
        sh = shingle_hashes(qh, QUOTE_WORDS, salt=3)
        starts.append(tok.starts[lo:lo + len(sh)])
        ends.append(tok.ends[lo + QUOTE_WORDS - 1:lo + QUOTE_WORDS - 1 + len(sh)])
        hashes.append(sh.astype(np.int64))
        weights.append(np.full(len(sh), QUOTE_WEIGHT))
    s, e, h, w = (np.concatenate(x) for x in (starts, ends, hashes, weights))
    order = np.lexsort((w, h, e, s))  # text order: (start, end, hash, weight)
    return NNQ(items=h[order].astype(np.uint32), weights=w[order],
               spans=np.stack([s[order], e[order]], axis=1),
               numbers=np.unique(number_hashes.astype(np.uint32)))


def _word_lengths(words: list[str]) -> np.ndarray:
    return np.fromiter(map(len, words), dtype=np.int64, count=len(words))


def _stop_mask(words: list[str]) -> np.ndarray:
    """Which words are function words (vectorised set lookup)."""
    return np.fromiter(map(stop_words().__contains__, words), dtype=bool, count=len(words))


def nnq_pairs(nnq: NNQ, window: int = PAIR_WINDOW) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unordered pairs of distinct items at most ``window`` apart: (hash, weight, first index).

    Unordered, because a translation round trip reorders facts inside a sentence.
    """
    n = len(nnq.items)
    hs, ws, idx = [], [], []
    items = nnq.items.astype(np.uint64)
    for d in range(1, window + 1):
        if n <= d:
            break
        a, b = items[:-d], items[d:]
        keep = a != b
        lo, hi = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
        with np.errstate(over="ignore"):
            h = _mix64((lo << np.uint64(32)) ^ hi ^ np.uint64(0xA5A5A5A5))
        hs.append((h >> np.uint64(32)).astype(np.uint32))
        ws.append(np.minimum(nnq.weights[:-d], nnq.weights[d:])[keep])
        idx.append(np.flatnonzero(keep))
    if not hs:
        return np.zeros(0, np.uint32), np.zeros(0), np.zeros(0, np.int64)
    return np.concatenate(hs), np.concatenate(ws), np.concatenate(idx)


def unique_weights(hashes: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique hashes with the largest weight each occurrence carried."""
    if not len(hashes):
        return np.zeros(0, np.uint32), np.zeros(0)
    order = np.lexsort((-weights, hashes))
    h, w = hashes[order], weights[order]
    first = np.concatenate([[True], h[1:] != h[:-1]])
    return h[first], w[first]


@dataclass(slots=True)
class Fingerprint:
    """Everything the index stores about a page, and (query side) what evidence needs.

    Stored: ``text_hash``, ``n_words`` and the five sorted unique hash sets. The rest is
    kept only for the page being queried, to weigh shared facts and point at matched text.
    """

    text_hash: bytes
    n_words: int
    shingles: np.ndarray
    immutables: np.ndarray
    nnq: np.ndarray
    pairs: np.ndarray
    terms: np.ndarray
    # query side only
    nnq_w: np.ndarray | None = None  # weights aligned with ``nnq``
    pairs_w: np.ndarray | None = None
    tokens: Tokens | None = None
    sh_seq: np.ndarray | None = None
    im_seq: np.ndarray | None = None
    im_words: np.ndarray | None = None
    nnq_occ: NNQ | None = None
    quotes: np.ndarray | None = None  # sorted unique quote 3-gram hashes (see quote_items)
    numbers: np.ndarray | None = None  # sorted unique hashes of the page's numbers
    extra: dict = field(default_factory=dict)


def fingerprint(doc: Document | str, keep_positions: bool = False) -> Fingerprint:
    """All fingerprints of a page; with ``keep_positions`` also weights and evidence data."""
    norm = doc.norm if isinstance(doc, Document) else doc
    tok = tokenize(norm)
    wh = np.fromiter(map(zlib.crc32, map(str.encode, tok.lower)), dtype=np.uint64,
                     count=len(tok.lower))
    sh_seq = shingle_hashes(wh, SHINGLE_WORDS, salt=1)
    stop = _stop_mask(tok.lower)
    im_words = np.flatnonzero(np.asarray(tok.capital, dtype=bool)
                              | np.asarray(tok.number, dtype=bool) | stop)
    im_seq = shingle_hashes(wh[im_words], IMMUTABLE_WORDS, salt=2)
    occ = nnq_items(norm, tok, word_hashes=wh, stop=stop)
    nnq_h, nnq_w = unique_weights(occ.items, occ.weights)
    ph, pw, _ = nnq_pairs(occ)
    pairs_h, pairs_w = unique_weights(ph, pw)
    fp = Fingerprint(text_hash=text_hash(norm), n_words=len(tok.lower),
                     shingles=np.unique(sh_seq), immutables=np.unique(im_seq),
                     nnq=nnq_h, pairs=pairs_h, terms=term_hashes(tok.lower))
    if keep_positions:
        fp.nnq_w, fp.pairs_w = nnq_w, pairs_w
        fp.tokens, fp.sh_seq, fp.im_seq, fp.im_words, fp.nnq_occ = tok, sh_seq, im_seq, im_words, occ
        fp.quotes = quote_items(occ, tok)
        fp.numbers = occ.numbers
    return fp


def quote_items(occ: NNQ, tok: Tokens) -> np.ndarray:
    """The page's quote 3-gram hashes (sorted, unique), once per query page.

    Told apart from names and numbers by their spans: the items that span QUOTE_WORDS
    words. (A number written with separators, "1,000,000", also spans several words and
    is counted too; the shipped model was trained so.)
    """
    if not len(occ.items):
        return np.zeros(0, np.uint32)
    first = np.searchsorted(tok.starts, occ.spans[:, 0], side="left")
    after = np.searchsorted(tok.starts, occ.spans[:, 1], side="left")
    return np.unique(occ.items[(after - first) >= QUOTE_WORDS])


# ---- storage form ------------------------------------------------------------------
_SETS = ("shingles", "immutables", "nnq", "pairs", "terms")


def pack_sets(fp: Fingerprint) -> bytes:
    """The five hash sets as one blob: 5 little-endian uint32 lengths, then the hashes."""
    arrays = [getattr(fp, name).astype("<u4", copy=False) for name in _SETS]
    head = np.asarray([len(a) for a in arrays], dtype="<u4")
    return head.tobytes() + b"".join(a.tobytes() for a in arrays)


def unpack_sets(blob: bytes) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack_sets` (raises ``ValueError`` on a truncated blob)."""
    k = len(_SETS)
    if len(blob) < 4 * k or len(blob) % 4:
        raise ValueError("fingerprint blob has the wrong length")
    head = np.frombuffer(blob, dtype="<u4", count=k)
    body = np.frombuffer(blob, dtype="<u4", offset=4 * k)
    if int(head.sum()) != len(body):
        raise ValueError("fingerprint blob has the wrong length")
    out, pos = {}, 0
    for name, n in zip(_SETS, head.tolist()):
        out[name] = body[pos:pos + n]
        pos += n
    return out
