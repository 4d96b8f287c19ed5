"""Moderator decisions exported by the queue come back as labelled training pages."""

from __future__ import annotations

import json

import pytest

from moderation.db import make_engine, migrate
from moderation.service import ModerationQueue
from training.labels import LabelError, page_from_decision, read_decisions


def test_queue_export_round_trips_into_training_pages(tmp_path, seeds):
    from scoring.score import build_scorer

    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    migrate(engine)
    scorer = build_scorer()
    q = ModerationQueue(engine, scorer=scorer, risk_threshold=0.0)
    q.add_moderator("mo", "a long password")
    for k in ("000", "004"):
        q.enqueue({**scorer.score(seeds[k], k), "text": seeds[k]})
    decided = {}
    while (it := q.claim_next("mo")) is not None:
        action = "reject" if it["page_id"] == "000" else "approve"
        q.decide("mo", it["id"], it["lease_token"], action,
                 ["pasted_twice", "clickbait_tail"] if action == "reject" else None)
        decided[it["page_id"]] = action
    assert decided == {"000": "reject", "004": "approve"}
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in q.export()))
    engine.dispose()
    pages = {p.id: p for p in read_decisions([path])}
    farm, clean = pages["moderated/000"], pages["moderated/004"]
    assert farm.quality_bad == 1 and set(farm.techniques) == {"pasted_twice", "clickbait_tail"}
    assert farm.unoriginal == 0  # no copying technique was ticked
    assert clean.quality_bad == 0 and clean.unoriginal == 0 and clean.text == seeds["004"]
    assert farm.query_id == farm.id and clean.query_id == clean.id  # scored as itself


def test_ticked_copying_marks_the_page_unoriginal():
    p = page_from_decision({"id": "a", "text": "Some text here.", "label": "farm",
                            "techniques": ["spinning"]})
    assert p.unoriginal == 1 and p.quality_bad == 1


@pytest.mark.parametrize("rec", [{"id": 1, "label": "farm"}, {"id": 1, "text": " ", "label": "farm"},
                                 {"id": 1, "text": "x", "label": "maybe"}])
def test_malformed_decisions_are_refused_with_a_reason(rec):
    with pytest.raises(LabelError):
        page_from_decision(rec, 3)


def test_malformed_json_names_the_line(tmp_path):
    f = tmp_path / "l.jsonl"
    f.write_text('{"id": 1, "text": "ok", "label": "clean"}\n{oops\n')
    with pytest.raises(LabelError, match=":2:"):
        read_decisions([f])
