"""BoilerplateExtractor: seed evidence at the right offsets, families, false positives, recall."""

from __future__ import annotations

import json

import pytest

from farmscore.config import models_dir
from features.base import get_params
from features.boilerplate import FAMILIES, BoilerplateExtractor, is_handle, norm_key
from features.document import Document


@pytest.fixture(scope="module")
def ext() -> BoilerplateExtractor:
    return BoilerplateExtractor()


def families_of(ext: BoilerplateExtractor, text: str) -> list[str]:
    return [sp.signal for sp in ext.extract(Document.from_text(text)).evidence]


def covering(spans, doc: Document, phrase: str, family: str):
    """The span of ``family`` that covers the first occurrence of ``phrase`` in the page."""
    at = doc.norm.find(phrase)
    assert at >= 0, f"test setup: {phrase!r} not in page"
    return [sp for sp in spans if sp.signal == family and sp.start <= at
            and at + len(phrase) <= sp.end]


# ---- contract -------------------------------------------------------------------------------
def test_contract(ext):
    assert BoilerplateExtractor.family == "boilerplate"
    assert all(f.startswith("bp_") for f in BoilerplateExtractor.FEATURES)
    assert len(set(BoilerplateExtractor.FEATURES)) == len(BoilerplateExtractor.FEATURES)
    out = ext.extract(Document.from_text("A plain sentence about the weather in Leeds today."))
    assert tuple(out.features) == BoilerplateExtractor.FEATURES
    assert all(isinstance(v, float) for v in out.features.values())
    params = get_params(BoilerplateExtractor(max_line_chars=150, min_long_cues=3))
    assert params["max_line_chars"] == 150 and params["min_long_cues"] == 3


# ---- seeds ----------------------------------------------------------------------------------
def test_seed_002_disclaimer_and_handle(ext, seeds, seed_expectations):
    doc = Document.from_text(seeds["002"])
    out = ext.extract(doc)
    for phrase in seed_expectations["002"]["disclaimer"]:
        assert covering(out.evidence, doc, phrase, "disclaimer"), phrase
    handles = [sp for sp in out.evidence if sp.signal == "uploader_handle"]
    at = doc.norm.find("\nSN_Nour\n") + 1  # the README names the uploader handle
    assert any(sp.start == at and sp.end == at + len("SN_Nour") for sp in handles)
    assert out.features["bp_disclaimer"] >= 2 and out.features["bp_uploader_handle"] >= 1
    assert out.features["bp_repeated"] >= 1  # the page was pasted twice, handle and all
    assert 0 < out.features["bp_first_pos"] < 1


def test_seed_003_comment_form(ext, seeds, seed_expectations):
    doc = Document.from_text(seeds["003"])
    out = ext.extract(doc)
    for phrase in seed_expectations["003"]["comment_form"]:
        assert covering(out.evidence, doc, phrase, "comment_form"), phrase
    assert covering(out.evidence, doc, "Secret Link", "spam_link")
    assert out.features["bp_first_pos"] > 0.9  # the chrome follows the story


def test_seed_004_nothing(ext, seeds):
    out = ext.extract(Document.from_text(seeds["004"]))
    assert out.evidence == []
    assert out.features["bp_lines"] == 0 and out.features["bp_first_pos"] == 1.0


def test_seed_spans_index_the_text(ext, seeds):
    for text in seeds.values():
        doc = Document.from_text(text)
        for sp in ext.extract(doc).evidence:
            assert doc.norm[sp.start:sp.end] == sp.text
            assert sp.signal in FAMILIES and sp.detail


def test_offsets_survive_invisible_characters(ext):
    text = "Story line one is here and long enough.\nLeave a\u200b Reply\nYour email address will not be published."
    doc = Document.from_text(text)
    spans = ext.extract(doc).evidence
    assert [sp.signal for sp in spans] == ["comment_form", "comment_form"]
    s, e = doc.to_original(spans[0].start, spans[0].end)
    assert text[s:e] == "Leave a\u200b Reply"


def test_hand_patterns_work_without_templates(seeds):
    bare = BoilerplateExtractor(templates_path="/nonexistent/templates.json")
    assert "comment_form" in families_of(bare, seeds["003"])
    assert "disclaimer" in families_of(bare, seeds["002"])


# ---- families on lines ----------------------------------------------------------------------
@pytest.mark.parametrize("line,family", [
    ("Disclaimer: This is not financial advice.", "disclaimer"),
    ("This post contains affiliate links; we may earn a commission.", "disclaimer"),
    ("View original", "disclaimer"),
    ("See Disclaimer", "disclaimer"),
    ("Add a comment", "comment_form"),
    ("Leave a Reply Cancel reply", "comment_form"),
    ("Save my name, email, and website in this browser for the next time I comment.", "comment_form"),
    ("Post Comment", "comment_form"),
    ("12 Comments", "comment_form"),
    ("Share this:", "share_subscribe"),
    ("Subscribe", "share_subscribe"),
    ("Sign up for our newsletter", "share_subscribe"),
    ("Follow us on Instagram", "share_subscribe"),
    ("Facebook Twitter LinkedIn Email", "share_subscribe"),
    ("Hidden Link", "spam_link"),
    ("Click here", "spam_link"),
    ("Photo: Jane Doe/Reuters", "photo_credit"),
    ("Bloomberg | Bloomberg | Getty Images", "photo_credit"),
    ("Image credit: NASA", "photo_credit"),
    ("@someone", "uploader_handle"),
    ("user_123", "uploader_handle"),
    ("All rights reserved.", "legal_nav"),
    ("© 2025 Example Media Ltd", "legal_nav"),
    ("Skip to content", "legal_nav"),
    ("Privacy Policy", "legal_nav"),
    ("Patient Login", "legal_nav"),
    ("Advertisement", "other_boilerplate"),
    ("Related Articles", "other_boilerplate"),
])
def test_family_of_line(ext, line, family):
    assert families_of(ext, f"An ordinary opening sentence of a story.\n{line}") == [family]


@pytest.mark.parametrize("line", [
    "Share prices rose 5% on Monday after the results.",
    "The newsletter's editor said subscriptions doubled last year.",
    "Follow the money, the senator said.",
    "Home Secretary David Blunkett announced the plan.",
    "He said he had sought legal advice before the vote.",
    "The European Commission will publish its report on Friday.",
    "Getty Museum opens a new wing",
    "Photographs from the trial were shown to the jury on Tuesday, the court heard.",
    "Related companies profit 3.1 mln vs 1.4 mln",
    "G8", "MP3", "2004", "task_id", "COCOA",
    "BANKS HAD EXCESS POSITIONS WITH VW - NEWSLETTER",
])
def test_prose_and_titles_are_not_boilerplate(ext, line):
    assert families_of(ext, f"An ordinary opening sentence of a story.\n{line}") == []


def test_handle_shape():
    assert is_handle("SN_Nour", 32) and is_handle("nour2024", 32)
    assert not any(is_handle(t, 32) for t in ("snake_case", "MAX_SIZE", "file_v2.py", "Nour"))
    assert not is_handle("SN_Nour and friends", 32)


def test_long_line_needs_two_cues(ext):
    filler = "The company reported higher sales across its regional divisions this year. " * 4
    one = filler + "Readers may wish to see our disclaimer page."
    two = filler + "This is for information purposes only and is not financial advice."
    assert families_of(ext, one) == []
    assert families_of(ext, two) == ["disclaimer"]
    assert families_of(BoilerplateExtractor(min_long_cues=3), two) == []


def test_short_line_limit(ext):
    """``max_line_chars`` bounds the hand patterns; the learned line model still reads the line."""
    spans = BoilerplateExtractor(max_line_chars=10).extract(Document.from_text("Story.\nLeave a Reply")).evidence
    assert [sp.signal for sp in spans if "line model" not in sp.detail] == []
    assert [sp.signal for sp in spans] == ["comment_form"]
    assert families_of(ext, "Story.\nLeave a Reply") == ["comment_form"]


def test_page_features(ext):
    text = "Headline\n\n" + "A long paragraph of the story that runs on. " * 5 + "\nShare this\nPrivacy Policy"
    f = ext.extract(Document.from_text(text)).features
    assert f["bp_lines"] == 2 and f["bp_families"] == 2
    assert f["bp_share_subscribe"] == 1 and f["bp_legal_nav"] == 1
    assert 0 < f["bp_char_frac"] < 0.2 and f["bp_line_frac"] == pytest.approx(2 / 4)
    assert f["bp_first_pos"] > 0.8


# ---- mined templates -------------------------------------------------------------------------
def test_templates_file_is_compact_and_normalised():
    data = json.loads((models_dir() / "boilerplate_templates.json").read_text(encoding="utf-8"))
    assert data["version"] >= 1 and data["counts"]["sites"] >= 100
    assert set(data["families"]) <= set(FAMILIES)
    for body in data["families"].values():
        for key, sites in {**body["lines"], **body["phrases"]}.items():
            assert norm_key(key) == key and len(key.split()) <= 14
            assert sites >= data["params"]["min_sites"]
    lines = {k for b in data["families"].values() for k in b["lines"]}
    assert {"privacy policy", "leave a reply"} <= lines


def test_mined_template_line(ext):
    # not written by hand anywhere: learned from many sites' chrome
    assert families_of(ext, "Story.\nDiscussion about this post") == ["comment_form"]


# ---- real data ------------------------------------------------------------------------------
@pytest.mark.data
def test_false_positive_rate_on_clean_originals(ext, clean_originals):
    """Share of 1,000 BBC/Reuters articles with any line flagged.

    Measured 0/1,000. Edited news has no chrome, so every flag is a false positive; the
    bound (2%, 20 articles) leaves room for new patterns but fails if a broad one such as a
    bare "share" or "newsletter" cue slips in (those flag dozens of titles and sentences).
    """
    flagged = [a.id for a in clean_originals
               if ext.extract(Document.from_text(a.text)).evidence]
    assert len(clean_originals) == 1000
    assert len(flagged) / len(clean_originals) <= 0.02, flagged[:10]


@pytest.mark.data
def test_recall_on_heldout_sites(ext, shared_data):
    """English boilerplate snippets of sites the miner never saw (sha1(host) % 5 == 0).

    Measured 0.82 on snippets that a family keyword claims (menus of product names and
    headlines of related articles are not in any family and not counted here).
    """
    from training.mine_boilerplate import family_of, is_heldout, iter_snippets, spans_of

    held = [s for s in iter_snippets(shared_data)
            if is_heldout(s.site) and family_of(norm_key(s.text))]
    assert len(held) >= 300
    train_sites = {s.site for s in iter_snippets(shared_data) if not is_heldout(s.site)}
    assert not train_sites & {s.site for s in held}
    recall = sum(bool(spans_of(ext, s.text)) for s in held) / len(held)
    assert recall >= 0.70
