"""Duplication: Gopher parity with datatrove's reference, and the pasted-twice detector."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from features.document import Document
from features.duplication import DuplicationExtractor

EX = DuplicationExtractor()


# datatrove's GopherRepetitionFilter helpers, restated here as the reference to match
def ref_find_all_duplicate(words: list[str], n: int) -> int:
    unique: set[str] = set()
    repeated, idx = 0, 0
    while idx < len(words) - n + 1:
        gram = "".join(words[idx: idx + n])
        if gram in unique:
            repeated += len(gram)
            idx += n
        else:
            unique.add(gram)
            idx += 1
    return repeated


def ref_top_counts(words: list[str], n: int) -> list[int]:
    grams = Counter(" ".join(words[i: i + n]) for i in range(len(words) - n + 1))
    if not grams:
        return [0]
    best = max(grams.values())
    return [len(g) * c for g, c in grams.items() if c == best]  # any tie is acceptable


def _pages(seeds, extra):
    texts = list(seeds.values()) + extra
    return texts + [t + "\n" + t[: len(t) // 2] for t in texts[:5]]


def test_gopher_measures_match_datatrove_reference(seeds, clean_originals):
    for text in _pages(seeds, [a.text for a in clean_originals[::10]]):
        doc = Document.from_text(text)
        f = EX.extract(doc).features
        words = doc.lower_words
        for n in range(5, 11):
            assert f[f"dup_{n}gram_char_frac"] * len(text) == pytest.approx(
                ref_find_all_duplicate(words, n), abs=1e-6)
        for n in (2, 3, 4):
            got = round(f[f"top_{n}gram_char_frac"] * len(text))
            assert got in ref_top_counts(words, n)


def test_duplicate_lines_are_counted():
    text = "Alpha line one\nBeta line two\nAlpha line one\nGamma\nAlpha line one\n"
    f = EX.extract(Document.from_text(text)).features
    assert f["dup_line_frac"] == pytest.approx(2 / 5)
    assert f["dup_line_char_frac"] == pytest.approx(2 * len("Alpha line one") / len(text))


@pytest.mark.parametrize("seed", ["000", "002"])
def test_seed_pasted_twice_found_at_second_copy(seeds, seed_expectations, seed):
    text = seeds[seed]
    exp = seed_expectations[seed]["pasted_twice"]
    phrase = exp["second_copy_starts_with"]
    first = text.index(phrase)
    second = text.index(phrase, first + 1)
    out = EX.extract(Document.from_text(text))
    assert out.features["dup_paste_detected"] == 1.0
    assert 0.35 < out.features["dup_paste_frac"] < 0.6  # about half the page is a repeat
    spans = [s for s in out.evidence if s.signal == "pasted_twice"]
    assert len(spans) == 1 and spans[0].start == second
    assert str(first) in spans[0].detail  # names where the first copy starts


@pytest.mark.parametrize("seed", ["001", "003", "004"])
def test_seeds_not_pasted_twice(seeds, seed):
    out = EX.extract(Document.from_text(seeds[seed]))
    assert out.features["dup_paste_detected"] == 0.0 and not out.evidence


def _edit(words: list[str], rate: float, rng: random.Random) -> list[str]:
    out = []
    for w in words:
        r = rng.random()
        if r < rate / 2:
            out.append(rng.choice(["really", "quite", "indeed", "new"]))  # substitution
        elif r < rate:
            continue  # deletion
        else:
            out.append(w)
    return out


def test_paste_detection_tolerates_edits_and_partial_copies(clean_originals):
    rng = random.Random(7)
    found = 0
    trials = [a for a in clean_originals if len(a.body.split()) > 250][:40]
    for a in trials:
        words = a.body.split()
        part = words[len(words) // 4:]  # a partial copy, lightly edited
        text = a.title + "\n\n" + " ".join(words) + "\n\n" + " ".join(_edit(part, 0.04, rng))
        out = EX.extract(Document.from_text(text))
        if out.features["dup_paste_detected"]:
            found += 1
            span = out.evidence[0]
            assert span.start >= len(a.title) + len(" ".join(words))  # in the second copy
    assert found >= 0.9 * len(trials)


def test_repeated_quote_or_stutter_is_not_a_paste():
    body = ("The minister spoke at length about the budget and the economy today. " * 1)
    quote = '"We will not raise taxes on working families this year," she said. '
    filler = " ".join(f"Sentence number {i} adds new facts about policy item {i}." for i in range(40))
    text = body + quote + filler + " " + quote + "ha " * 30
    out = EX.extract(Document.from_text(text))
    assert out.features["dup_paste_detected"] == 0.0


def ref_top_chars(words: list[str], n: int) -> int:
    """datatrove's ``find_top_duplicate``: ``Counter.most_common(1)``, so of equally frequent
    n-grams the first to occur."""
    grams = Counter(" ".join(words[i: i + n]) for i in range(len(words) - n + 1))
    if not grams:
        return 0
    gram, count = grams.most_common(1)[0]
    return len(gram) * count


def test_top_ngram_ties_go_to_the_first_ngram(seeds, clean_originals):
    """Ties are common on clean pages; the choice must not depend on the hash seed."""
    for text in _pages(seeds, [a.text for a in clean_originals[::10]]):
        doc = Document.from_text(text)
        f = EX.extract(doc).features
        for n in (2, 3, 4):
            assert round(f[f"top_{n}gram_char_frac"] * len(text)) == ref_top_chars(doc.lower_words, n)


def test_compiled_repeats_match_python_reference():
    """The compiled n-gram counter finds the same repeats as the numpy/Python reference
    (positions, counts, where the most frequent n-gram first occurs; labels equal alike)."""
    import numpy as np

    from features.duplication import repeated_ngrams, repeated_ngrams_py

    rng = random.Random(7)
    for trial in range(300):
        n_vocab = rng.choice([1, 2, 3, 5, 20, 200])
        length = rng.choice([0, 1, 2, 3, 7, 30, 200])
        ids = [rng.randrange(n_vocab) for _ in range(length)]
        if trial % 3 == 0 and length:  # a pasted second copy
            ids = ids + ids[: rng.randrange(length) + 1]
        arr = np.asarray(ids, dtype=np.int64)
        for max_n in (2, 3, 5, 10):
            got, ref = repeated_ngrams(arr, n_vocab, max_n), repeated_ngrams_py(arr, n_vocab, max_n)
            assert got.keys() == ref.keys()
            for n in ref:
                g, r = got[n], ref[n]
                assert (g.pos, g.best, g.best_pos) == (r.pos, r.best, r.best_pos), (ids, n)
                pairs = set(zip(g.gram, r.gram))
                assert len(pairs) == len(set(g.gram)) == len(set(r.gram)), (ids, n)
