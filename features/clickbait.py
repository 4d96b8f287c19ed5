"""Clickbait tail: a trailing block of short, off-topic headlines ("You may also like").

Farms pad a copied article with links to unrelated tabloid stories. On the page alone the
block shows as (a) short headline-shaped lines at the end, (b) often after a marker line
such as "You may also like", "Related", "Read more", "Recommended", (c) about other topics
than the body, and (d) worded like clickbait. Each is a feature; the tail's start offset is
the evidence. A legitimate ending ("Related: one line", a byline) is short and on-topic.

The clickbait score comes from a classifier trained on the stop-clickbait headlines
(``features.headline_model``); the same model scores the page's title line.
"""

from __future__ import annotations

import re
from typing import ClassVar

from features.base import Extraction, Span
from features.boilerplate import BoilerplateExtractor
from features.document import WORD_RE, Document
from features.headline_model import HeadlineModel, default_headline_model
from features.lexicon import STOP_WORDS, content_words, idf_weight

MARKER_RE = re.compile(
    r"^\W*(?:you\s+(?:may|might|will)\s+(?:also\s+)?(?:like|love|enjoy)|"
    r"(?:related|recommended|suggested|popular|trending|latest|similar|sponsored|promoted)"
    r"(?:\s+(?:articles?|stories|posts?|news|content|reads?|reading|links?|videos?|for\s+you|now|today|on\s+\w+))?|"
    r"read\s+(?:more|next|also)|also\s+read|see\s+also|more\s+(?:from|stories|news|like\s+this|to\s+(?:read|explore)|on\s+this)|"
    r"don'?t\s+miss|must\s+read|top\s+stories|what\s+to\s+read\s+next|around\s+the\s+web|"
    r"from\s+(?:the\s+web|our\s+partners)|other\s+stories|in\s+case\s+you\s+missed\s+it|"
    r"editor'?s?\s+picks?|most\s+(?:read|popular|viewed))\b[\s\W]{0,3}(?:\w+\W*){0,3}$",
    re.I,
)
_SENTENCE_BREAK_RE = re.compile(r"[.!?]\s+[A-Z]")
_BOILERPLATE = BoilerplateExtractor()  # its line classifier only; thresholds at their defaults


def is_marker(line: str, max_words: int = 7) -> bool:
    """A line that announces a block of links ("You may also like", "Related stories")."""
    return len(line) < 80 and len(line.split()) <= max_words and bool(MARKER_RE.match(line))


def is_headline_like(line: str, min_words: int, max_words: int) -> bool:
    """One sentence-less line of headline length: no final full stop, no sentence break."""
    toks = line.split()
    if not (min_words <= len(toks) <= max_words) or len(line) > 240:
        return False
    if line.endswith(".") and not line.endswith("..."):
        return False
    return not _SENTENCE_BREAK_RE.search(line)


def has_function_word(line: str) -> bool:
    """Headlines are phrases ("How Much Welsh Food Have You Tried"); rows of a results
    table or a list of names ("13 Karolina Sprem (Croatia)") have no function words."""
    return any(w.lower().strip("\"'‘’“”,:;!?()") in STOP_WORDS for w in line.split())


def topical_overlap(line_words: list[str], body_vocab: set[str]) -> float:
    """Share of a line's content-word weight that also occurs in the body (0 = off-topic)."""
    cw = content_words(line_words)
    if not cw:
        return 0.0
    total = sum(idf_weight(w) for w in cw)
    shared = sum(idf_weight(w) for w in cw if w in body_vocab)
    return shared / total


class ClickbaitTailExtractor:
    """Finds the trailing link block and measures how off-topic and clickbait-like it is.

    Parameters
    ----------
    min_words, max_words: length of a headline-shaped line.
    max_trailing_short: lines of page furniture (share buttons, a comment form, a footer)
        allowed after the block.
    min_lines_without_marker: a block with no marker needs at least this many headlines.
    offtopic_below: a headline whose topical overlap with the body is below this is off-topic.
    min_body_words: the page above the tail must be an article, not a list of links.
    min_phrase_frac: share of the block's lines that must read as phrases (function words).
    """

    family: ClassVar[str] = "clickbait"
    FEATURES: ClassVar[tuple[str, ...]] = (
        "tail_detected",
        "tail_marker",
        "tail_lines",
        "tail_char_frac",
        "tail_start_rel",
        "tail_body_overlap",
        "tail_offtopic_frac",
        "tail_clickbait_mean",
        "tail_clickbait_max",
        "title_clickbait",
    )

    def __init__(self, min_words: int = 4, max_words: int = 25, max_trailing_short: int = 12,
                 min_lines_without_marker: int = 3, offtopic_below: float = 0.25,
                 min_offtopic_frac: float = 0.6, min_body_words: int = 80,
                 min_phrase_frac: float = 0.5, headline_model: HeadlineModel | None = None):
        self.min_words = min_words
        self.max_words = max_words
        self.max_trailing_short = max_trailing_short
        self.min_lines_without_marker = min_lines_without_marker
        self.offtopic_below = offtopic_below
        self.min_offtopic_frac = min_offtopic_frac
        self.min_body_words = min_body_words
        self.min_phrase_frac = min_phrase_frac
        self.headline_model = headline_model

    def _model(self) -> HeadlineModel:
        return self.headline_model or default_headline_model()

    def is_chrome(self, line: str) -> bool:
        """A line of page furniture (a comment form, a footer, share buttons): short, or one
        the boilerplate family recognises. Farms put such lines after the link block too."""
        if len(line.split()) < self.min_words:
            return True
        return len(line) <= 200 and _BOILERPLATE.classify_line(line) is not None

    def find_tail(self, lines: list[str]) -> tuple[int, bool, int]:
        """Index of the first tail line (``len(lines)`` when none), whether a marker leads it,
        and the index just past its last headline (page furniture after it is not tail)."""
        i = len(lines)
        skipped = 0
        while i > 0 and skipped < self.max_trailing_short and not is_marker(lines[i - 1]) \
                and self.is_chrome(lines[i - 1]):
            i -= 1
            skipped += 1
        end_block = i
        while i > 0 and not is_marker(lines[i - 1]) and is_headline_like(
                lines[i - 1], self.min_words, self.max_words):
            i -= 1
        n_heads = end_block - i
        if n_heads and sum(map(has_function_word, lines[i:end_block])) < self.min_phrase_frac * n_heads:
            return len(lines), False, len(lines)  # a list of names or numbers, not of headlines
        if i > 0 and is_marker(lines[i - 1]) and n_heads >= 1:
            return i - 1, True, end_block
        if n_heads >= self.min_lines_without_marker:
            return i, False, end_block
        return len(lines), False, len(lines)

    def extract(self, doc: Document) -> Extraction:
        model = self._model()
        lines = doc.line_texts
        f = dict.fromkeys(self.FEATURES, 0.0)
        f["tail_body_overlap"] = 1.0
        if lines and len(lines[0].split()) <= self.max_words:
            f["title_clickbait"] = model.score(lines[0])
        start, marker, end = self.find_tail(lines)
        if start >= len(lines) or start == 0:
            return Extraction(f)
        body_end = doc.lines[start][0]
        body_words = [w.lower() for w in WORD_RE.findall(doc.norm[:body_end])]
        if len(body_words) < self.min_body_words:
            return Extraction(f)
        body_vocab = set(body_words)
        heads = lines[start + 1:end] if marker else lines[start:end]
        heads = [h for h in heads if len(h.split()) >= self.min_words] or heads
        overlaps = [topical_overlap([w.lower() for w in WORD_RE.findall(h)], body_vocab) for h in heads]
        scores = [model.score(h) for h in heads]
        offtopic = sum(o < self.offtopic_below for o in overlaps) / len(heads)
        detected = offtopic >= self.min_offtopic_frac and (marker or len(heads) >= self.min_lines_without_marker)
        cs, ce = doc.lines[start][0], doc.lines[end - 1][1]
        f.update({
            "tail_detected": float(detected),
            "tail_marker": float(marker),
            "tail_lines": float(len(heads)),
            "tail_char_frac": (ce - cs) / len(doc.norm),
            "tail_start_rel": cs / len(doc.norm),
            "tail_body_overlap": sum(overlaps) / len(overlaps),
            "tail_offtopic_frac": offtopic,
            "tail_clickbait_mean": sum(scores) / len(scores),
            "tail_clickbait_max": max(scores),
        })
        evidence = []
        if detected:
            evidence.append(Span(
                "clickbait_tail", cs, ce, doc.norm[cs:ce][:300],
                f"{len(heads)} headline lines{' after a marker' if marker else ''}; "
                f"{offtopic:.0%} off-topic; clickbait score {f['tail_clickbait_mean']:.2f}",
            ))
        return Extraction(f, evidence)
