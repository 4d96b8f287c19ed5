"""The learned line classifier (features.line_model): a text model, held-out-host accuracy,
boilerplate wordings no pattern holds, and article text left alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from farmscore.config import models_dir
from features.boilerplate import BoilerplateExtractor
from features.document import Document
from features.line_model import CLASSES, LineModel, page_contexts, text_features


@pytest.fixture(scope="module")
def model() -> LineModel:
    return LineModel()


ARTICLE = (
    "Councillors in the town voted on Tuesday to close two libraries next spring.\n\n"
    "The decision follows months of consultation in which residents argued that the buildings "
    "were the only warm public spaces left in their neighbourhoods, and that the savings of "
    "about 400,000 pounds a year would be swallowed by the cost of moving the collections.\n\n"
    "The council leader said the vote had been difficult but that the authority had no other "
    "way to balance its budget after a fall in grants from central government.\n\n"
    "Campaigners said they would ask for a judicial review of the consultation and would keep "
    "a reading room open in a church hall until the case was heard."
)


def test_model_file_is_text_and_complete():
    data = json.loads((models_dir() / "line_model.json").read_text(encoding="utf-8"))
    assert tuple(data["classes"]) == CLASSES
    assert len(data["weights"]) == len(data["features"]) * len(CLASSES)
    assert len(data["bias"]) == len(CLASSES)


def test_probabilities_are_a_distribution(model):
    lines = [ln for ln in ARTICLE.splitlines() if ln.strip()]
    p = model.predict(lines)
    assert p.shape == (len(lines), len(CLASSES))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert model.predict([]).shape == (0, len(CLASSES))


def test_article_paragraphs_are_article(model):
    lines = [ln for ln in ARTICLE.splitlines() if ln.strip()]
    assert (model.predict(lines)[:, 0] > 0.5).all()


@pytest.mark.parametrize("line,family", [
    # written here, in no pattern list or template of ours
    ("Tap the bell to follow our channel on Mastodon and Bluesky", "share_subscribe"),
    ("Please log in or register to join the conversation below", "comment_form"),
    # chrome, but its family is not always right (family accuracy is ~0.9, README)
    ("Image via Wikimedia Commons (CC BY-SA 4.0)", None),
    ("Cookie preferences | Imprint | Accessibility help", "legal_nav"),
])
def test_unseen_chrome_wordings_are_found(model, line, family):
    lines = [ln for ln in ARTICLE.splitlines() if ln.strip()] + [line]
    p = model.predict(lines)[-1]
    assert p[0] < 0.5, f"{line!r} read as article ({p[0]:.2f})"
    if family is not None:
        assert CLASSES[int(np.argmax(p[1:])) + 1] == family


def test_chrome_at_the_end_of_plain_text_is_found_without_a_pattern():
    """A notice written here, matched by no hand pattern, gets a learned-model span."""
    ext = BoilerplateExtractor()
    notice = "This post is republished from a partner feed; all rights stay with the original publisher."
    assert ext.classify_line(notice) is None  # no hand pattern or template holds it
    out = ext.extract(Document.from_text(ARTICLE + "\n\n" + notice))
    assert out.features["bp_ml_chrome_lines"] >= 1
    assert out.features["bp_ml_tail_lines"] >= 1


@pytest.mark.data
def test_held_out_hosts_precision_and_recall(shared_data, model):
    """On hosts the model never trained on (split by host): the README's figures' floors."""
    from training.train_line_model import evaluate

    res = evaluate(model)
    assert res["heldout_pages"] >= 100 and res["lines"] >= 10000
    assert res["precision"] >= 0.85
    assert res["recall"] >= 0.80
    assert res["family_accuracy"] >= 0.80
    assert res["bbc_heldout_lines_flagged"] <= 0.05


def _reference_logits(model: LineModel, lines: list[str]) -> np.ndarray:
    """The model's definition written out: bias + the weight row of every feature that
    ``text_features`` and ``page_contexts`` give a line (what training fits)."""
    m = model._load()
    rows = []
    for ln, ctx in zip(lines, page_contexts(lines)):
        ids = [m.index[f] for f in text_features(ln) + ctx if f in m.index]
        rows.append(m.bias + m.w[ids].sum(axis=0))
    return np.array(rows)


HOSTILE_LINES = [
    "x", "ÄÖ ü 😀 𝔘 a\u0000b", "İstanbul İİ ǅ ß ﬁ", "a" * 5000, "word_with_underscores @handle",
    "Share this article | Facebook • Twitter", "© 2024 The Paper (c) all rights", "WE ARE NOT",
    "https://example.com/a?b=c www.x.org", "   ", "1234567890 9876", "this page's content",
    "We do not guarantee it; you cannot rely on this article. It is provided as-is.",
]


@pytest.mark.parametrize("lines", [
    [ln for ln in ARTICLE.splitlines() if ln.strip()],
    HOSTILE_LINES,
    [ln for ln in ARTICLE.splitlines() if ln.strip()] + HOSTILE_LINES + HOSTILE_LINES[:3],
    [("lorem ipsum dolor " * k).strip() for k in (1, 5, 9, 12, 40)],
])
def test_fast_scoring_equals_the_feature_definition(lines):
    """LineModel scores with word maps, array 3-grams and a per-line cache; the scores must
    be the feature definition's, fresh and cached, with a cache smaller than the page."""
    ref = _reference_logits(LineModel(), lines)
    for model in (LineModel(), LineModel(cache_size=2)):
        assert np.allclose(model.logits(lines), ref, atol=1e-9)
        assert np.allclose(model.logits(lines), ref, atol=1e-9)  # from the cache


def test_a_full_cache_keeps_the_lines_of_the_page_it_is_scoring():
    """Making room for a page's fresh lines evicts the oldest entries, which may be lines of
    that same page (CI once failed with KeyError 'Home' on a real page): scores stay exact."""
    model = LineModel(cache_size=3)
    model.logits(["Home", "News", "Sport"])
    page = ["Home", "The minister resigned on Tuesday.", "Share this article"]
    assert np.allclose(model.logits(page), _reference_logits(LineModel(), page), atol=1e-9)
    assert len(model._cache) <= 3


@pytest.mark.data
def test_fast_scoring_equals_the_feature_definition_on_real_pages(shared_data):
    from training.corpus import bbc_articles
    from training.web_pages import web_pages

    model = LineModel()
    pages = [Document.from_text(a.text).line_texts for a in bbc_articles()[:50]]
    pages += [Document.from_text(p.text).line_texts for p in web_pages()[:150]]
    for lines in filter(None, pages):
        assert np.allclose(model.logits(lines), _reference_logits(model, lines), atol=1e-9)
