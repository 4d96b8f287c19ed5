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
from functools import lru_cache
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
_URL_TRIGGERS = ("http", "www.", ".com", ".org", ".net", ".co.uk", ".io")


#: Discourse cues: generic grammar of self-reference, not any notice's wording.
_DISCOURSE: tuple[tuple[str, str], ...] = (
    ("self", r"\b(?:this|our|the) (?:article|page|post|story|content|site|website|material|"
             r"publication|feed|blog|newsletter|platform|channel)s?\b"),
    ("we", r"\b(?:we|our|us)\b"),
    ("you", r"\b(?:you|your)\b"),
    ("neg_modal", r"\b(?:may|might|must|should|will|can|cannot|do|does|is|are) not\b|\bcannot\b"),
    ("passive", r"\b(?:is|are|was|were|be|been) (?:\w+ )?(?:provided|published|republished|"
                r"distributed|reproduced|licensed|intended|responsible|removed|owned|reserved)\b"),
)
#: One pass over the line finds every cue (a named group each).
_DISCOURSE_RE = re.compile("|".join(f"(?P<{n}>{rx})" for n, rx in _DISCOURSE))


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


def text_features(line: str) -> list[str]:
    """Features of the line alone: words, word pairs, character 3-grams (short lines), shape."""
    line = line.strip()[:MAX_LINE_CHARS]
    low = line.lower()
    words = _WORD_RE.findall(low)
    # a long line is read by its opening and its end: where a notice says what it is
    # ("Disclaimer: ...", "... not financial advice."), at a fixed cost per line
    seen = words if len(line) <= CHAR_NGRAM_MAX_CHARS else words[:LONG_LINE_WORDS] + words[-3:]
    out = [f"w:{w}" for w in set(seen)]
    out += [f"b:{a}_{b}" for a, b in set(zip(seen, seen[1:]))]
    if words:
        out.append(f"first:{words[0]}")
        out.append(f"last:{words[-1]}")
    if len(line) <= CHAR_NGRAM_MAX_CHARS:
        s = " " + " ".join(words) + " "
        out += [f"c:{g}" for g in {s[i:i + 3] for i in range(len(s) - 2)}]
    raw_words = line.split()
    n = len(raw_words)
    caps = sum(1 for w in raw_words if w[:1].isupper()) / n if n else 0.0
    digits = sum(map(line.count, "0123456789")) / max(1, len(line))
    out += [
        f"len:{_bucket(len(line), (4, 10, 20, 40, 80, 160, 320))}",
        f"nw:{_bucket(n, (2, 3, 4, 6, 9, 14, 25, 50))}",
        f"end:{_char_class(line[-1:])}",
        f"start:{_char_class(line[:1])}",
        f"caps:{_bucket(caps, (0.2, 0.5, 0.8, 0.99))}",
        f"digits:{_bucket(digits, (0.01, 0.1, 0.3))}",
    ]
    # how the line speaks, over the whole line: a notice talks about the page, its publisher
    # and its reader ("this article", "our site", "you"), an article about the world
    out += [f"d:{name}" for name in {m.lastgroup for m in _DISCOURSE_RE.finditer(low)}]
    if any(t in low for t in _URL_TRIGGERS) and _URL_RE.search(low):
        out.append("url")
    if ("@" in line or "_" in line) and _HANDLE_RE.search(line):
        out.append("handle")
    if any(ch in line for ch in "|•·»›"):
        out.append("sep")
    if "©" in line or "(c)" in low:
        out.append("copyright")
    if line.isupper() and n:
        out.append("allcaps")
    if "*" in line:
        out.append("star")
    return out


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
    return {w for w in _WORD_RE.findall(line.lower()) if len(w) > 2 and w not in _STOP}


def page_vocabulary(lines: list[str], words: list[set[str]] | None = None) -> set[str]:
    """Content words of the page's long lines: what the article talks about. ``words``:
    each line's :func:`content_words`, when the caller has them."""
    vocab: set[str] = set()
    for i, ln in enumerate(lines):
        if len(ln) >= VOCAB_LINE_CHARS:
            vocab |= words[i] if words is not None else content_words(ln)
    return vocab


def page_contexts(lines: list[str]) -> list[list[str]]:
    """Context features of every line of a page (``lines`` are its non-empty lines)."""
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


class LineModel:
    """The shipped line classifier. ``path=None``: ``models/line_model.json``.

    ``predict(lines)`` gives one row of class probabilities per line (``CLASSES`` order as
    stored in the file). No work in ``__init__``; the file is read on first use.
    """

    def __init__(self, path: str | None = None, cache_size: int = 65536):
        self.path = path
        self.cache_size = cache_size
        self._loaded = None

    def _load(self):
        if self._loaded is None:
            p = Path(self.path) if self.path else models_dir() / "line_model.json"
            data = json.loads(p.read_text(encoding="utf-8"))
            names = data["features"]
            w = np.asarray(data["weights"], dtype=np.float64).reshape(len(names), -1)
            index = {f: i for i, f in enumerate(names)}
            bias = np.asarray(data["bias"], dtype=np.float64)
            zero = np.zeros_like(bias)

            @lru_cache(maxsize=self.cache_size)
            def text_score(line: str) -> np.ndarray:
                ids = [j for f in text_features(line) if (j := index.get(f)) is not None]
                return w[ids].sum(axis=0) if ids else zero

            self._loaded = (tuple(data["classes"]), index, w, bias, text_score, data)
        return self._loaded

    def clear_cache(self) -> None:
        """Forget the per-line text scores (a benchmark's fresh pass)."""
        self._load()[4].cache_clear()

    @property
    def classes(self) -> tuple[str, ...]:
        return self._load()[0]

    @property
    def meta(self) -> dict:
        return self._load()[5].get("meta", {})

    def logits(self, lines: list[str]) -> np.ndarray:
        classes, index, w, bias, text_score, _ = self._load()
        out = np.empty((len(lines), len(classes)))
        for i, (ln, ctx) in enumerate(zip(lines, page_contexts(lines))):
            ids = [j for f in ctx if (j := index.get(f)) is not None]
            out[i] = bias + text_score(ln) + (w[ids].sum(axis=0) if ids else 0.0)
        return out

    def predict(self, lines: list[str]) -> np.ndarray:
        """Class probabilities, one row per line (softmax of the logits)."""
        if not lines:
            return np.zeros((0, len(self.classes)))
        z = self.logits(lines)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
