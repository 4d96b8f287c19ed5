"""A learned line classifier: is this line of a page article text, or which kind of chrome?

Why learned and not a phrase list: hand patterns and mined templates find the wordings they
hold and nothing else, so a disclaimer, a syndication notice or a share bar worded unlike
ours went unseen. This model is trained (``python -m training.train_line_model``) on the
lines of real pages whose main content is marked (web-extraction-2025 and trafilatura-eval,
split by host), so it learns what boilerplate *looks like*: its character n-grams and words,
its length and shape (no sentence-final punctuation, title case, a pipe between items, a
handle, a URL), where it sits on the page, and how far its words are from the article's
vocabulary.

It is a multinomial logistic regression over sparse binary features, shipped as JSON
(``models/line_model.json``: classes, feature names, one weight row per feature) and scored
here without scikit-learn or pickle: a line's score is the bias plus the sum of the rows of
its features. Linear, so the score splits into a *text* part, which depends on the line
alone and is cached per distinct line, and a *context* part (position, neighbours,
vocabulary), which is a handful of features per line.

The featuriser below is the single definition used both to train and to score.
"""

from __future__ import annotations

import json
import re
from itertools import compress, repeat
from operator import itemgetter
from pathlib import Path

import numpy as np

from farmscore.config import models_dir

#: "article" first, then the chrome families (a superset of the hand-pattern families).
CLASSES: tuple[str, ...] = (
    "article", "disclaimer", "comment_form", "share_subscribe", "spam_link", "photo_credit",
    "uploader_handle", "legal_nav", "other_boilerplate",
)
#: Lines longer than this get word features only (a paragraph's character n-grams add cost,
#: not information).
CHAR_NGRAM_MAX_CHARS = 160
#: Words of a longer line that are featurised: its first ones (and its last three).
LONG_LINE_WORDS = 12
#: Characters of a line that are featurised at all (a 5,000-character line is article text).
MAX_LINE_CHARS = 600

_WORD_RE = re.compile(r"[^\W_]+")
# linear-time patterns (no unbounded run before a literal): lines may be long and hostile
_URL_RE = re.compile(r"https?://|www\.|\w\.(?:com|org|net|co\.uk|io)\b")
_HANDLE_RE = re.compile(r"(?:^|\s)@\w{2}|[A-Za-z]_[A-Za-z0-9]")
#: Substrings without which ``_URL_RE`` / ``_HANDLE_RE`` cannot match: tested first, so most
#: lines never run the regex (the same answers, a fraction of the cost).
#: Characters that separate items of a menu or a breadcrumb.
_SEPARATORS = frozenset("|•·»›")
_URL_TRIGGERS = ("http", "www.", ".com", ".org", ".net", ".co.uk", ".io")


#: Discourse cues: generic grammar of self-reference, not any notice's wording.
_SELF_NOUNS = ("article", "page", "post", "story", "content", "site", "website", "material",
               "publication", "feed", "blog", "newsletter", "platform", "channel")
_PARTICIPLES = ("provided", "published", "republished", "distributed", "reproduced", "licensed",
                "intended", "responsible", "removed", "owned", "reserved")
_DISCOURSE: tuple[tuple[str, str], ...] = (
    ("self", rf"\b(?:this|our|the) (?:{'|'.join(_SELF_NOUNS)})s?\b"),
    ("we", r"\b(?:we|our|us)\b"),
    ("you", r"\b(?:you|your)\b"),
    ("neg_modal", r"\b(?:may|might|must|should|will|can|cannot|do|does|is|are) not\b|\bcannot\b"),
    ("passive", rf"\b(?:is|are|was|were|be|been) (?:\w+ )?(?:{'|'.join(_PARTICIPLES)})\b"),
)
#: Words one of which every cue's match holds as a whole word (its noun, pronoun, "not" or
#: participle): a line with none of them cannot match, and skips the regex.
_DISCOURSE_WORDS = frozenset(_SELF_NOUNS + tuple(w + "s" for w in _SELF_NOUNS) + _PARTICIPLES
                             + ("we", "our", "us", "you", "your", "not", "cannot"))
#: Every cue starts at a word boundary with one of these letters; testing them first lets
#: the engine skip all other positions at once (the same matches, about 2.5x faster).
_DISCOURSE_FIRST = "abcdimostuwy"
#: One pass over the line finds every cue (a named group each).
_DISCOURSE_RE = re.compile(rf"\b(?=[{_DISCOURSE_FIRST}])(?:"
                           + "|".join(f"(?P<{n}>{rx})" for n, rx in _DISCOURSE) + ")")

def _bucket(x: float, edges: tuple[float, ...]) -> int:
    for i, e in enumerate(edges):
        if x < e:
            return i
    return len(edges)


def _char_class(ch: str) -> str:
    if not ch:
        return "none"
    if ch in ".!?":
        return "stop"
    if ch in "\"'”’»)":
        return "quote"
    if ch in ":;,":
        return "colon"
    if ch.isdigit():
        return "digit"
    if ch.isalpha():
        return "upper" if ch.isupper() else "lower"
    return "sym"


def _gram_string(words: list[str]) -> str:
    """The string whose character 3-grams are featurised: the words, space-separated and
    padded, so a 3-gram sees word starts and ends but no punctuation or case."""
    return " " + " ".join(words) + " "


def _prepare(line: str) -> tuple[str, str, list[str]]:
    """The featurised part of a line, its lower case and its words."""
    line = line.strip()[:MAX_LINE_CHARS]
    low = line.lower()
    return line, low, _WORD_RE.findall(low)


def _seen(line: str, words: list[str]) -> list[str]:
    """The words whose features are taken: all of a short line's; a long line is read by its
    opening and its end, where a notice says what it is ("Disclaimer: ...", "... not
    financial advice."), at a fixed cost per line."""
    return words if len(line) <= CHAR_NGRAM_MAX_CHARS else words[:LONG_LINE_WORDS] + words[-3:]


def word_features(line: str, words: list[str]) -> list[str]:
    """Words, word pairs, the first and the last word. ``line``, ``words``: as :func:`_prepare`
    gives them."""
    seen = _seen(line, words)
    out = [f"w:{w}" for w in set(seen)]
    out += [f"b:{a}_{b}" for a, b in set(zip(seen, seen[1:]))]
    if words:
        out.append(f"first:{words[0]}")
        out.append(f"last:{words[-1]}")
    return out


def shape_features(line: str, low: str, words: list[str]) -> list[str]:
    """Length, shape, discourse cues, links and marks of a line (as :func:`_prepare` gives it)."""
    raw_words = line.split()
    n = len(raw_words)
    caps = sum(map(str.isupper, map(itemgetter(0), raw_words))) / n if n else 0.0
    digits = sum(map(line.count, "0123456789")) / max(1, len(line))
    out = [
        f"len:{_bucket(len(line), (4, 10, 20, 40, 80, 160, 320))}",
        f"nw:{_bucket(n, (2, 3, 4, 6, 9, 14, 25, 50))}",
        f"end:{_char_class(line[-1:])}",
        f"start:{_char_class(line[:1])}",
        f"caps:{_bucket(caps, (0.2, 0.5, 0.8, 0.99))}",
        f"digits:{_bucket(digits, (0.01, 0.1, 0.3))}",
    ]
    # how the line speaks, over the whole line: a notice talks about the page, its publisher
    # and its reader ("this article", "our site", "you"), an article about the world. No cue
    # can match without one of its words among the line's words: most lines skip the regex.
    if not _DISCOURSE_WORDS.isdisjoint(words):
        out += [f"d:{name}" for name in {m.lastgroup for m in _DISCOURSE_RE.finditer(low)}]
    if any(t in low for t in _URL_TRIGGERS) and _URL_RE.search(low):
        out.append("url")
    if ("@" in line or "_" in line) and _HANDLE_RE.search(line):
        out.append("handle")
    if not _SEPARATORS.isdisjoint(line):
        out.append("sep")
    if "©" in line or "(c)" in low:
        out.append("copyright")
    if line.isupper() and n:
        out.append("allcaps")
    if "*" in line:
        out.append("star")
    return out


def token_features(line: str, low: str, words: list[str]) -> list[str]:
    """Every text feature but the character 3-grams."""
    return word_features(line, words) + shape_features(line, low, words)


def text_features(line: str) -> list[str]:
    """Features of the line alone: words, word pairs, character 3-grams (short lines), shape.

    The definition the model is trained on; :class:`LineModel` scores the same features with
    the 3-grams found by array arithmetic (``_gram_ids``), checked equal in the tests."""
    line, low, words = _prepare(line)
    out = token_features(line, low, words)
    if len(line) <= CHAR_NGRAM_MAX_CHARS:
        s = _gram_string(words)
        out += [f"c:{g}" for g in {s[i:i + 3] for i in range(len(s) - 2)}]
    return out


def _gram_code(gram: str) -> int:
    """A 3-gram as one integer: three code points (< 2**21 each) side by side."""
    a, b, c = map(ord, gram)
    return (a << 42) | (b << 21) | c


def context_features(pos: float, is_first: bool, is_last: bool, prev_chars: int,
                     next_chars: int, vocab_share: float | None) -> list[str]:
    """Features of where the line sits: relative position, its neighbours' lengths, and the
    share of its content words found in the page's long (article) lines."""
    out = [f"pos:{_bucket(pos, (0.05, 0.15, 0.5, 0.85, 0.95))}",
           f"prev:{_bucket(prev_chars, (1, 40, 160))}",
           f"next:{_bucket(next_chars, (1, 40, 160))}"]
    if is_first:
        out.append("first_line")
    if is_last:
        out.append("last_line")
    if vocab_share is not None:
        out.append(f"vocab:{_bucket(vocab_share, (0.01, 0.25, 0.5, 0.75))}")
    return out


_STOP = frozenset("""a an the and or but of to in on at by for from with about into over this
that these those it its is are be was were will not no my our your you we us me i he she they
them his her their here there can may must do does did so as if up out all more new""".split())
#: Lines at least this long are the page's article text, for the vocabulary feature.
VOCAB_LINE_CHARS = 200


def content_words(line: str) -> set[str]:
    """The line's words that carry its topic (no stop words, none under three letters)."""
    return _content(_WORD_RE.findall(line.lower()))


def _content(words: list[str]) -> set[str]:
    # {w for w in words if len(w) > 2} - _STOP, in C-level calls only
    return set(compress(words, map((2).__lt__, map(len, words)))) - _STOP


def page_vocabulary(lines: list[str], words: list[set[str]] | None = None) -> set[str]:
    """Content words of the page's long lines: what the article talks about. ``words``:
    each line's :func:`content_words`, when the caller has them."""
    vocab: set[str] = set()
    for i, ln in enumerate(lines):
        if len(ln) >= VOCAB_LINE_CHARS:
            vocab |= words[i] if words is not None else content_words(ln)
    return vocab


def page_contexts(lines: list[str], words: list[set[str]] | None = None) -> list[list[str]]:
    """Context features of every line of a page (``lines`` are its non-empty lines;
    ``words``: their :func:`content_words`, when the caller has them)."""
    if words is None:
        words = [content_words(ln) for ln in lines]
    vocab = page_vocabulary(lines, words)
    n = len(lines)
    out = []
    for i, ln in enumerate(lines):
        cw = words[i] if vocab else set()
        share = (len(cw & vocab) / len(cw)) if (vocab and cw) else None
        out.append(context_features(i / max(1, n - 1), i == 0, i == n - 1,
                                    len(lines[i - 1]) if i else 0,
                                    len(lines[i + 1]) if i + 1 < n else 0, share))
    return out


#: The id of a feature the model does not hold.
_MISSING = repeat(-1)


def _sum_rows(w: np.ndarray, rows: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
    """``out[r] = sum of w[ids[k]] over k with rows[k] == r``, for ``r < n``: the scores of
    many sparse binary rows in three array operations instead of one sum per line."""
    out = np.zeros((n, w.shape[1]))
    if len(ids):
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        out[rows[starts]] = np.add.reduceat(w[ids[order]], starts, axis=0)
    return out


class _Weights:
    """The model file, read once: classes, bias, weight rows, the feature index, and the
    character 3-gram features as sorted integer codes (``_gram_code``) for array lookup."""

    def __init__(self, data: dict):
        names = data["features"]
        self.data = data
        self.classes: tuple[str, ...] = tuple(data["classes"])
        self.w = np.asarray(data["weights"], dtype=np.float64).reshape(len(names), -1)
        self.bias = np.asarray(data["bias"], dtype=np.float64)
        self.index = {f: i for i, f in enumerate(names)}
        # word features by their word (pair) directly: looked up with C-level map()
        self.by_word = {p: {f[len(p) + 1:]: i for i, f in enumerate(names)
                            if f.startswith(p + ":")} for p in ("w", "first", "last")}
        self.by_pair = {tuple(f[2:].split("_")): i for i, f in enumerate(names)
                        if f.startswith("b:")}
        grams = sorted((_gram_code(f[2:]), i) for i, f in enumerate(names)
                       if f.startswith("c:") and len(f) == 5)
        self.gram_codes = np.array([c for c, _ in grams], dtype=np.uint64)
        self.gram_ids = np.array([i for _, i in grams], dtype=np.int64)

    def gram_ids_of(self, strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, feature id) of every distinct known 3-gram of each string, all strings in one
        pass: the strings are joined with NUL (never inside a gram string) and every window
        of three code points that holds no NUL is looked up in the sorted code table."""
        if not strings or not len(self.gram_codes):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        cp = np.frombuffer("\0".join(strings).encode("utf-32-le"), dtype=np.uint32)
        cp = cp.astype(np.uint64)
        codes = (cp[:-2] << np.uint64(42)) | (cp[1:-1] << np.uint64(21)) | cp[2:]
        zero = cp == 0
        ok = ~(zero[:-2] | zero[1:-1] | zero[2:])
        row = np.cumsum(zero)[:-2][ok]
        codes = codes[ok]
        pos = np.searchsorted(self.gram_codes, codes)
        pos[pos == len(self.gram_codes)] = 0
        hit = self.gram_codes[pos] == codes
        key = np.unique(row[hit] * len(self.w) + self.gram_ids[pos[hit]])
        return key // len(self.w), key % len(self.w)


class LineModel:
    """The shipped line classifier. ``path=None``: ``models/line_model.json``.

    ``predict(lines)`` gives one row of class probabilities per line (``CLASSES`` order as
    stored in the file). No work in ``__init__``; the file is read on first use. The text
    part of each distinct line's score is kept (up to ``cache_size`` lines, oldest dropped
    first): chrome lines repeat across a site's pages.
    """

    def __init__(self, path: str | None = None, cache_size: int = 65536):
        self.path = path
        self.cache_size = cache_size
        self._loaded: _Weights | None = None
        self._cache: dict[str, np.ndarray] = {}

    def _load(self) -> _Weights:
        if self._loaded is None:
            p = Path(self.path) if self.path else models_dir() / "line_model.json"
            self._loaded = _Weights(json.loads(p.read_text(encoding="utf-8")))
        return self._loaded

    def clear_cache(self) -> None:
        """Forget the per-line text scores (a benchmark's fresh pass)."""
        self._cache.clear()

    @property
    def classes(self) -> tuple[str, ...]:
        return self._load().classes

    @property
    def meta(self) -> dict:
        return self._load().data.get("meta", {})

    def _text_scores(self, lines: list[str]) -> tuple[np.ndarray, list[set[str]]]:
        """The text part of the score of each line, :func:`text_features`' rows summed with
        the 3-grams of all lines looked up together, and each line's :func:`content_words`
        (from the same words when the line was featurised whole)."""
        m = self._load()
        rows: list[int] = []
        ids: list[int] = []
        gram_rows: list[int] = []
        grams: list[str] = []
        content: list[set[str]] = []
        index = m.index
        w_get, b_get = m.by_word["w"].get, m.by_pair.get
        first_get, last_get = m.by_word["first"].get, m.by_word["last"].get
        for r, ln in enumerate(lines):
            line, low, words = _prepare(ln)
            k = len(ids)
            # word_features' ids, without building its strings (-1: not in the model)
            seen = _seen(line, words)
            ids += map(w_get, set(seen), _MISSING)
            ids += map(b_get, set(zip(seen, seen[1:])), _MISSING)
            if words:
                ids.append(first_get(words[0], -1))
                ids.append(last_get(words[-1], -1))
            ids += map(index.get, shape_features(line, low, words), _MISSING)
            rows += [r] * (len(ids) - k)
            if len(line) <= CHAR_NGRAM_MAX_CHARS:
                gram_rows.append(r)
                grams.append(_gram_string(words))
            whole = len(ln.strip()) <= MAX_LINE_CHARS
            content.append(_content(words) if whole else content_words(ln))
        g_row, g_id = m.gram_ids_of(grams)
        all_rows = np.concatenate([np.asarray(rows, np.int64),
                                   np.asarray(gram_rows, np.int64)[g_row]])
        all_ids = np.concatenate([np.asarray(ids, np.int64), g_id])
        known = all_ids >= 0
        all_rows, all_ids = all_rows[known], all_ids[known]
        return _sum_rows(m.w, all_rows, all_ids, len(lines)), content

    def _text_parts(self, lines: list[str]) -> tuple[np.ndarray, list[set[str]]]:
        """:meth:`_text_scores` of every line, each distinct line computed once and kept."""
        cache = self._cache
        fresh = list(dict.fromkeys(ln for ln in lines if ln not in cache))
        if len(fresh) > self.cache_size:  # more new lines than the cache holds: no caching
            return self._text_scores(lines)
        # this page's lines are taken before any eviction: making room for the fresh lines may
        # drop old entries the page itself still needs
        known = {ln: cache[ln] for ln in lines if ln in cache}
        if fresh:
            scores, content = self._text_scores(fresh)
            known.update(zip(fresh, zip(scores, content)))
            for _ in range(len(cache) + len(fresh) - self.cache_size):
                del cache[next(iter(cache))]
            cache.update((ln, known[ln]) for ln in fresh)
        parts = [known[ln] for ln in lines]
        return np.array([p[0] for p in parts]), [p[1] for p in parts]

    def logits(self, lines: list[str]) -> np.ndarray:
        """Bias + text part + context part of each line's class scores."""
        m = self._load()
        text, content = self._text_parts(lines)
        rows, ids = [], []
        for i, ctx in enumerate(page_contexts(lines, content)):
            for f in ctx:
                if (j := m.index.get(f)) is not None:
                    rows.append(i)
                    ids.append(j)
        ctx_scores = _sum_rows(m.w, np.asarray(rows, np.int64), np.asarray(ids, np.int64),
                               len(lines))
        return m.bias + text + ctx_scores

    def predict(self, lines: list[str]) -> np.ndarray:
        """Class probabilities, one row per line (softmax of the logits)."""
        if not lines:
            return np.zeros((0, len(self.classes)))
        z = self.logits(lines)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
