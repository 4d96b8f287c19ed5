"""Clickbait tail and the headline classifier."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from features.clickbait import ClickbaitTailExtractor, is_marker
from features.document import Document
from features.headline_model import HeadlineModel, default_headline_model

EX = ClickbaitTailExtractor()


def test_seed_000_tail_starts_at_marker(seeds, seed_expectations):
    text = seeds["000"]
    out = EX.extract(Document.from_text(text))
    assert out.features["tail_detected"] == 1.0
    assert out.features["tail_marker"] == 1.0
    assert out.features["tail_lines"] == 5
    assert out.features["tail_offtopic_frac"] >= 0.8
    span = next(s for s in out.evidence if s.signal == "clickbait_tail")
    assert span.start == text.index(seed_expectations["000"]["clickbait_tail"]["starts_with"])


@pytest.mark.parametrize("seed", ["001", "002", "003", "004"])
def test_other_seeds_have_no_tail(seeds, seed):
    out = EX.extract(Document.from_text(seeds[seed]))
    assert out.features["tail_detected"] == 0.0


@pytest.mark.parametrize("marker", ["Related stories", "Recommended for you", "Read more:",
                                    "Trending Now", "You might also like", "More from our partners"])
def test_markers_are_recognised(marker):
    assert is_marker(marker)


@pytest.mark.parametrize("line", ["The market rallied on Friday after the jobs report.",
                                  "Related to the merger, the board said it would vote later.",
                                  "Read the full statement on the company website today please now"])
def test_sentences_are_not_markers(line):
    assert not is_marker(line)


def _tail_page(article, headlines, marker):
    lines = ([marker] if marker else []) + headlines
    return article.text + "\n\n" + "\n\n".join(lines) + "\n"


def test_unmarked_off_topic_tails_are_found(shared_data, clean_originals):
    from training.corpus import clickbait_headlines

    cb, _ = clickbait_headlines()
    rng = random.Random(3)
    arts = [a for a in clean_originals if len(a.body.split()) > 150][:60]
    found = 0
    for a in arts:
        heads = rng.sample(cb, 5)
        text = _tail_page(a, heads, marker=None)
        out = EX.extract(Document.from_text(text))
        if out.features["tail_detected"]:
            found += 1
            assert out.evidence[0].start == text.index(heads[0], len(a.text))
    assert found >= 0.9 * len(arts)


def test_short_on_topic_related_line_is_not_a_tail(clean_originals):
    flagged = 0
    arts = clean_originals[:100]
    for a in arts:
        related = f"Related: {a.title}"  # one on-topic link, as a real newsroom adds
        out = EX.extract(Document.from_text(a.text + "\n\n" + related))
        flagged += out.features["tail_detected"] > 0
    assert flagged <= 2


def test_shipped_headline_model_accuracy_on_held_out_headlines(shared_data):
    from sklearn.model_selection import train_test_split

    from training.corpus import clickbait_headlines
    from training.train_headline_model import HELD_OUT_SEED

    cb, nc = clickbait_headlines()
    x, y = cb + nc, np.array([1] * len(cb) + [0] * len(nc))
    _, xte, _, yte = train_test_split(x, y, test_size=0.2, random_state=HELD_OUT_SEED, stratify=y)
    model = default_headline_model()
    pred = np.array([model.score(h) > 0.5 for h in xte[:3000]])
    assert (pred == yte[:3000]).mean() >= 0.95


def test_exported_weights_reproduce_scikit_learn(tmp_path, shared_data):
    from training.corpus import clickbait_headlines
    from training.train_headline_model import build_pipeline, check_parity, export

    cb, nc = clickbait_headlines()
    x = cb[:400] + nc[:400]
    y = [1] * 400 + [0] * 400
    pipe = build_pipeline(min_df=1).fit(x, y)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(export(pipe)))
    model = HeadlineModel.load(path)
    assert check_parity(pipe, model, cb[400:600] + nc[400:600], tol=1e-6) < 1e-6


def test_headline_with_unknown_words_gets_prior():
    m = default_headline_model()
    assert 0.0 < m.score("zzqx qqvv") < 1.0
    assert m.score("") == m.score("zzqx")


def test_tail_followed_by_comment_form_and_footer_is_found(seeds):
    text = seeds["000"].rstrip() + ("\n\nLeave a Reply\n\nYour email address will not be published. "
                                    "Required fields are marked *\n\nPost Comment\n\n"
                                    "© 2025 Example Media. All rights reserved.\n\nPrivacy Policy\n")
    out = EX.extract(Document.from_text(text))
    assert out.features["tail_detected"] == 1.0
    assert out.evidence[0].start == text.index("You may also like")
