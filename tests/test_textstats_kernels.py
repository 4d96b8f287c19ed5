"""The compiled text-statistics passes against their Python references."""

from __future__ import annotations

import random

import numpy as np

from features.document import Document
from features.sentences import CLASSES, sentence_word_counts
from features.textstats import sentence_lengths

#: Characters that matter to the sentence rule: ends, closers, openers, capitals, digits,
#: white space of several kinds (line breaks, Unicode spaces), plain letters.
_ALPHABET = list(".!?\"'”’)]“‘([AZ09az \n\t\r\x0b\x0c\u00a0\u2003\u2028\u3000x-,") + ["\U0001f600"]


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def test_sentence_word_counts_match_regex_reference():
    rng = random.Random(11)
    texts = ["", " ", "\n", "A.", "A. B", "end. \nNext", "Hi.  “Quoted” yes! (4) no? ok", "a .  B"]
    for _ in range(4000):
        texts.append("".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(1, 40))))
    for t in texts:
        assert sentence_word_counts(_codes(t), CLASSES).tolist() == sentence_lengths(t), repr(t)


def test_sentence_word_counts_on_pages(seeds, clean_originals):
    for t in list(seeds.values()) + [a.text for a in clean_originals[:200]]:
        doc = Document.from_text(t)
        assert sentence_word_counts(doc.code_points, CLASSES).tolist() == sentence_lengths(doc.norm)
