"""The content-farm simulator: labels, disjoint kits, rewrites that look like real rewrites."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from training.simulator import (COPYING, FILLER, Kit, Simulator, carrier_index, rewrite,
                                sentence_slots)


@pytest.fixture(scope="module")
def kits(shared_data):
    from training.corpus import mrpc_sentences

    heads = [f"{n} Things You Never Knew About Cats" for n in range(3, 13)]
    return {"train": Kit.build("train", heads, mrpc_sentences("train")),
            "test": Kit.build("test", heads, mrpc_sentences("test"))}


@pytest.fixture(scope="module")
def bbc(shared_data):
    from training.corpus import bbc_articles

    return bbc_articles()[::40][:40]


def test_sentence_slots_find_name_runs_and_numbers():
    s = "Officials said Scott Bessent met Li Chenggang in Kuala Lumpur on Sunday for 90 minutes."
    got = [(s[a:b], k) for a, b, k in sentence_slots(s)]
    assert got == [("Scott Bessent", "name"), ("Li Chenggang", "name"), ("Kuala Lumpur", "name"),
                   ("90", "number")]


def test_carriers_are_grouped_by_slots_and_hold_no_quotes():
    idx = carrier_index(["The company said sales rose 5 percent to $ 2 billion last year.",
                         '"We are pleased," the chief executive of the group said today.',
                         "Shares of Acme rose sharply in New York trading on the news.",
                         "Wagner said the shares were sold at a loss to a rival bidder."])
    assert set(idx) == {(0, 2), (2, 0)}
    assert all('"' not in s for group in idx.values() for s in group)


def test_train_and_test_kits_share_no_material(kits):
    tr, te = kits["train"], kits["test"]
    for field in ("markers", "disclaimers", "frames"):
        assert not set(getattr(tr, field)) & set(getattr(te, field)), field
    carriers = lambda k: {s for group in k.carriers.values() for s in group}  # noqa: E731
    assert not carriers(tr) & carriers(te)


def _rewrite_overlap(bbc, kit) -> tuple[float, float]:
    """Median (weighted share of a rewrite's facts in its source, share of its shingles)."""
    from originality.fingerprints import fingerprint
    from originality.matching import score

    facts, shingles = [], []
    for i, a in enumerate(bbc):
        page = rewrite(a.text, random.Random(i), kit)
        src = fingerprint(a.text)
        s = score(fingerprint(page, keep_positions=True),
                  {"shingles": src.shingles, "immutables": src.immutables, "nnq": src.nnq,
                   "pairs": src.pairs, "terms": src.terms})
        facts.append(s.facts)
        shingles.append(s.shingle_in_source)
    return float(np.median(facts)), float(np.median(shingles))


def test_rewrites_keep_the_facts_and_lose_the_wording(kits, bbc, monkeypatch):
    """What real rewrites look like to the index (seeds 002-004, the GPT rephrasings):
    most of the page's names and numbers are the source's, few of its 5-word shingles. A
    loose rewrite (a translation round trip, a free summary) keeps fewer facts as they were
    and fewer words still."""
    import training.simulator as sim

    monkeypatch.setattr(sim, "LOOSE_REWRITE_SHARE", 0.0)
    facts, shingles = _rewrite_overlap(bbc, kits["train"])
    assert facts >= 0.8 and shingles <= 0.4, (facts, shingles)
    monkeypatch.setattr(sim, "LOOSE_REWRITE_SHARE", 1.0)
    loose_facts, loose_shingles = _rewrite_overlap(bbc, kits["train"])
    assert 0.4 <= loose_facts < facts - 0.05, (loose_facts, facts)
    assert loose_shingles < shingles, (loose_shingles, shingles)


def _verbatim_quotes(bbc, kit) -> tuple[int, int]:
    """(quotes of the originals found verbatim in their rewrites, quotes of 3+ words)."""
    kept = total = 0
    for i, a in enumerate(bbc):
        page = rewrite(a.text, random.Random(i), kit)
        quotes = [q for par in a.body.split("\n") if par.count('"') % 2 == 0
                  for q in re.findall(r'"([^"]{12,400})"', par)]
        for q in quotes:
            if len(q.split()) >= 3:
                total += 1
                kept += q.strip().rstrip(",.") in page
    return kept, total


def test_rewrites_keep_most_quotes_verbatim(kits, bbc, monkeypatch):
    """Up to 60 % of a rewrite's sentences are left out (summaries); what stays keeps most
    of its quotes, unless the rewrite is loose."""
    import training.simulator as sim

    monkeypatch.setattr(sim, "LOOSE_REWRITE_SHARE", 0.0)
    kept, total = _verbatim_quotes(bbc, kits["test"])
    assert total > 20 and kept >= 0.4 * total
    monkeypatch.setattr(sim, "LOOSE_REWRITE_SHARE", 1.0)
    loose_kept, loose_total = _verbatim_quotes(bbc, kits["test"])
    assert loose_total == total and loose_kept < 0.6 * kept


def test_loose_rewrites_shorten_names(kits, bbc, monkeypatch):
    """A loose rewrite gives some two-word names by the surname alone, as translations and
    free summaries do; a strict one keeps every name whole."""
    import training.simulator as sim

    def full_names_kept(share: float) -> float:
        monkeypatch.setattr(sim, "LOOSE_REWRITE_SHARE", share)
        hit = n = 0
        for i, a in enumerate(bbc):
            names = set(re.findall(r"\b(?:Mr |Ms )?([A-Z][a-z]+ [A-Z][a-z]{3,})\b", a.body))
            page = rewrite(a.text, random.Random(i), kits["test"])
            for name in names:
                if name.split()[-1] in page:
                    n += 1
                    hit += name in page
        return hit / n

    assert full_names_kept(1.0) < full_names_kept(0.0) - 0.1


def test_drift_name():
    from training.simulator import drift_name as sim_drift

    rng = random.Random(0)
    outs = {sim_drift("Scott Bessent", rng) for _ in range(200)}
    assert outs <= {"Scott Bessent", "Bessent", "SB"} and "Bessent" in outs
    assert {sim_drift("Malaysia", rng) for _ in range(20)} == {"Malaysia"}


def test_page_labels_follow_the_techniques(kits, bbc):
    pages = list(Simulator().pages(bbc[:20], "train", kits["train"], indexed=lambda _id: True))
    clean = [p for p in pages if not p.techniques]
    farms = [p for p in pages if p.techniques]
    assert len(clean) >= 20 and all(p.quality_bad == 0 and p.unoriginal == 0 for p in clean)
    for p in farms:
        assert p.quality_bad == int(bool(FILLER & set(p.techniques)))
        assert p.unoriginal == int(bool(COPYING & set(p.techniques)))
        # the source is indexed: every farm page copies, spins or rewrites it
        assert p.unoriginal == 1 and p.source_id
    assert any("rewrite" in p.techniques for p in farms)


def test_unknown_sources_get_only_on_page_techniques(kits, bbc):
    pages = list(Simulator().pages(bbc[:20], "train", kits["train"], indexed=lambda _id: False))
    techs = {t for p in pages for t in p.techniques}
    assert techs and techs.isdisjoint({"copy", "paraphrase", "rewrite"})


def test_near_duplicates_are_found_in_id_order(tmp_path, bbc):
    from training.corpus import Article
    from training.dataset import near_duplicates

    a, b = bbc[0], bbc[1]
    update = Article("zz/update", "bbc", a.title, a.body + "\n\nThe talks resume on Monday.")
    dupes = near_duplicates([a, b, update], tmp_path)
    assert dupes == {"zz/update"}  # the later version goes, the first and the unrelated stay


def test_loose_rewrites_keep_their_sources_numbers(kits, bbc, monkeypatch):
    """A translation or a summary keeps every number: a loose rewrite borrows names from
    its carrier sentences, never numbers (the carrier's own numbers show only where it has
    more number slots than the source sentence has numbers)."""
    import training.simulator as sim
    from originality.fingerprints import fingerprint
    from originality.matching import score

    monkeypatch.setattr(sim, "LOOSE_REWRITE_SHARE", 1.0)
    shares, names = [], []
    for i, a in enumerate(bbc):
        src = fingerprint(a.text)
        s = score(fingerprint(rewrite(a.text, random.Random(i), kits["train"]), keep_positions=True),
                  {"shingles": src.shingles, "immutables": src.immutables, "nnq": src.nnq,
                   "pairs": src.pairs, "terms": src.terms})
        if s.numbers >= 3:
            shares.append(s.numbers_in_source)
            names.append(s.facts)
    assert len(shares) >= 10
    assert np.median(shares) >= 0.75 and np.median(shares) > np.median(names), (np.median(shares), np.median(names))


def test_briefs_are_short_clean_openings(bbc, kits):
    """A brief is the opening of its article in whole sentences, 25-150 words (fewer only if
    the first sentence alone is longer), labelled clean: a short page that is nobody's copy."""
    from training.simulator import BRIEF_PROB, brief, sentences

    for i, a in enumerate(bbc):
        text = brief(a.text, random.Random(i))
        body = text.split("\n\n")[-1]
        first = sentences(a.body.split("\n\n")[0])[0]
        assert body.startswith(first), a.id
        assert body in a.text.replace("\n\n", " "), a.id  # consecutive sentences, unchanged
        assert len(body.split()) <= 150 or body == first, (a.id, len(body.split()))
    pages = list(Simulator().pages(bbc, "train", kits["train"], indexed=lambda _: True))
    briefs = [p for p in pages if p.hard_negative == "brief"]
    assert briefs and all(p.id.endswith("#clean-brief") and not p.unoriginal and not p.quality_bad
                          for p in briefs)
    assert abs(len(briefs) / len(bbc) - BRIEF_PROB) < 0.2
