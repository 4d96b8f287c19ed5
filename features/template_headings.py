"""Template headings of generated rewrites and SEO templates.

AI rewriters and article spinners wrap a copied story in a fixed frame of rhetorical
headings ("Executive Summary", "Key Takeaways", "Why This Matters", "Final Thoughts",
"Frequently Asked Questions"). News copy has few headings, and rarely these. The lexicon
below is the frame vocabulary of such generators in general (a family of phrasings, not one
site's strings); the features also measure heading density and question headings, which
catch frames the lexicon does not list.
"""

from __future__ import annotations

import re
from typing import ClassVar

from features.base import Extraction, Span
from features.document import Document

TEMPLATE_HEADINGS: frozenset[str] = frozenset({
    "executive summary", "summary", "in summary", "key takeaways", "key takeaway", "takeaways",
    "key points", "key highlights", "highlights", "at a glance", "tl dr", "tldr",
    "the story so far", "story so far", "background", "the backstory", "context",
    "why this matters", "why it matters", "why does this matter", "why this is important",
    "what this means", "what it means", "what this means for you", "what it means for you",
    "who thinks what", "what they re saying", "what people are saying", "what experts say",
    "what s next", "what happens next", "what comes next", "what to watch", "looking ahead",
    "the bottom line", "bottom line", "the big picture", "big picture", "in conclusion",
    "conclusion", "final thoughts", "final words", "closing thoughts", "outlook", "the outlook",
    "overview", "introduction", "frequently asked questions", "faqs", "faq", "the takeaway",
    "our take", "expert opinion", "expert analysis", "quick facts", "fast facts",
    "between the lines", "go deeper", "by the numbers", "zoom in", "zoom out", "state of play",
    "reality check", "driving the news", "what we know", "what we know so far",
    "what we don t know", "how we got here", "key details", "main points", "to sum up",
    "wrapping up", "the details", "the facts", "analysis", "implications", "impact",
    "pros and cons", "the verdict", "verdict", "what you need to know", "need to know",
})
_BULLET_STRIP_RE = re.compile(r"^[\s•\-*–·▪►✓✔#>\d.)]+")
_NORM_RE = re.compile(r"[^a-z0-9]+")


def normalise_heading(line: str) -> str:
    """Lower-case, bullets and punctuation removed: "• Who Thinks What?" -> "who thinks what"."""
    return _NORM_RE.sub(" ", _BULLET_STRIP_RE.sub("", line).lower().replace("’", "'")).strip()


def is_heading(line: str, max_words: int) -> bool:
    """A short line without a final full stop: a heading, a caption or a label."""
    body = _BULLET_STRIP_RE.sub("", line).strip()
    # splitting stops after max_words + 1 words: a paragraph is not split whole
    return 0 < len(body.split(None, max_words)) <= max_words and not body.endswith((".", ",", ";"))


class TemplateHeadingExtractor:
    """Counts headings, and the ones from the rewrite-template vocabulary.

    Parameters
    ----------
    max_words: longest heading, in words.
    """

    family: ClassVar[str] = "template_headings"
    FEATURES: ClassVar[tuple[str, ...]] = (
        "tpl_heading_count",
        "tpl_heading_frac",
        "tpl_headings_per_1k_words",
        "tpl_question_headings",
    )

    def __init__(self, max_words: int = 8):
        self.max_words = max_words

    def extract(self, doc: Document) -> Extraction:
        f = dict.fromkeys(self.FEATURES, 0.0)
        evidence: list[Span] = []
        headings = 0
        questions = 0
        # the first line is the page title, not a section heading
        for (s, e), line in zip(doc.lines[1:], doc.line_texts[1:]):
            if not is_heading(line, self.max_words):
                continue
            headings += 1
            questions += line.rstrip().endswith("?")
            if normalise_heading(line) in TEMPLATE_HEADINGS:
                lead = len(line) - len(_BULLET_STRIP_RE.sub("", line))
                evidence.append(Span("template_heading", s + lead, e, line[lead:],
                                     "heading from a rewrite template"))
        n_words = max(1, doc.n_words)
        f["tpl_heading_count"] = float(len(evidence))
        f["tpl_heading_frac"] = len(evidence) / headings if headings else 0.0
        f["tpl_headings_per_1k_words"] = 1000.0 * headings / n_words
        f["tpl_question_headings"] = float(questions)
        return Extraction(f, evidence)
