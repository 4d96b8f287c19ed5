"""The learned line classifier (features.line_model): a text model, held-out-host accuracy,
boilerplate wordings no pattern holds, and article text left alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from farmscore.config import models_dir
from features.boilerplate import BoilerplateExtractor
from features.document import Document
from features.line_model import CLASSES, LineModel, text_features


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
