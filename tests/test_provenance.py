"""Provenance (issue 15): the page a text is derived from, and no source for another article
on the same event; publication dates as feeds write them."""

from __future__ import annotations

import argparse
import io
import json
import math

import pytest

from originality import InvalidPageError, open_index
from originality.dates import DateError, normalise_published
from originality.fingerprints import fingerprint
from originality.matching import Scores, score
from originality.provenance import (
    DERIVATION_FEATURES,
    MEASURED,
    NEAR_EQUAL,
    DerivationModel,
    aligned_sentences,
    attributed_quotes,
    derivation_features,
    rank,
)
from test_originality import first_copy, locations  # noqa: F401 (fixture)


# ---- the ranking rule ----------------------------------------------------------------------
def test_rank_puts_strength_before_age_and_age_before_near_equal_strength():
    # (name, strength, publication order)
    old_weak = ("old-weak", 0.22, (1,))
    copy_src = ("x", 0.98, (5,))
    copy_of_copy = ("x-copy", 0.99, (7,))
    mid = ("mid", 0.5, (2,))
    got = rank([copy_of_copy, old_weak, mid, copy_src], strength_of=lambda t: t[1],
               order_of=lambda t: t[2])
    # x and its copy are near-equal: the earlier first; the rest strongest first
    assert [t[0] for t in got] == ["x", "x-copy", "mid", "old-weak"]
    # just outside the margin the stronger wins, however old the other
    a, b = ("older", 0.9 - NEAR_EQUAL - 0.01, (0,)), ("newer", 0.9, (9,))
    assert [t[0] for t in rank([a, b], lambda t: t[1], lambda t: t[2])] == ["newer", "older"]
    assert rank([], lambda t: 0, lambda t: 0) == []


def _sets(text: str) -> dict:
    fp = fingerprint(text)
    return {k: getattr(fp, k) for k in ("shingles", "immutables", "nnq", "pairs", "terms")}


def test_a_verbatim_copy_names_its_page_not_an_older_weak_match(locations, seeds,  # noqa: F811
                                                               seed_expectations):
    """X is the Reuters story; Y, dated a day earlier, is a rewrite of it (seed 004) that a
    plain copy of X matches only weakly. The copy of X is attributed to X, Y is listed."""
    x = first_copy(seeds, seed_expectations)
    y = seeds["004"]
    with open_index(locations.new()) as index:
        index.add([{"id": "y-older", "text": y, "published": "2025-10-24"},
                   {"id": "x", "text": x, "published": "2025-10-25"}])
        page = f"Breaking | {x}\n\nYou may also like\n\nTen stars who vanished\nYou won't believe"
        matches = index.query(page)
        assert [m.id for m in matches] == ["x", "y-older"]
        assert matches[0].method == "copy" and matches[0].similarity > 0.9
        assert matches[1].method in {"spin", "paraphrase"} and matches[1].similarity < 0.5
        # the extractor reports the other candidate with its method and similarity
        from features.document import Document
        from features.originality import OriginalityExtractor

        source = OriginalityExtractor(index=index).extract(Document.from_text(page)).meta["source"]
        assert source["id"] == "x"
        assert source["others"] == [{"id": "y-older", "method": matches[1].method,
                                     "similarity": round(matches[1].similarity, 4)}]


def test_a_copy_of_a_copy_names_the_earliest(locations, seeds, seed_expectations):  # noqa: F811
    x = first_copy(seeds, seed_expectations)
    farm = f"{x}\n\nYou may also like\n\nTen stars who vanished\nShe said yes"
    with open_index(locations.new()) as index:
        # the farm copy is added first but dated later: dates decide among near-equals
        index.add([{"id": "farm-copy", "text": farm, "published": "2025-10-27"},
                   {"id": "x", "text": x, "published": "2025-10-25"}])
        page = f"Trending | {farm}\n\nLeave a Reply"
        matches = index.query(page)
        assert [m.id for m in matches] == ["x", "farm-copy"]
        s_x, s_farm = (m.similarity for m in matches)
        assert abs(s_x - s_farm) <= NEAR_EQUAL  # the farm copy matches as strongly, or more


# ---- the derivation check --------------------------------------------------------------------
SOURCE = ("Officials met in Kuala Lumpur on Saturday to ease trade tensions, said Scott Bessent. "
          "\"We had a very constructive meeting,\" Bessent said after the talks at the Merdeka 118 "
          "tower. Washington threatened tariffs of 100% on November 1, and Beijing tightened export "
          "controls on rare earths. Li Chenggang said the sides reached a preliminary consensus. "
          "Jamieson Greer said the talks would continue in Busan on Thursday to extend a 90-day truce.")
RETOLD = ("In Kuala Lumpur on Saturday officials tried to cool the trade dispute, Scott Bessent "
          "said. After the Merdeka 118 talks Bessent said: \"We had a very constructive meeting.\" "
          "Washington had threatened 100% tariffs from November 1 as Beijing tightened its export "
          "controls on rare earths. A preliminary consensus was reached, said Li Chenggang. Talks "
          "go on in Busan on Thursday over the 90-day truce, according to Jamieson Greer.")
OTHER = ("Soybean farmers in Iowa welcomed news from Kuala Lumpur, where Scott Bessent met Chinese "
         "officials. Grain prices rose 3% in Chicago on Monday. \"It is a relief,\" said Mark Olsen, "
         "who farms 1,200 acres near Ames. Exports fell 40% in September, the USDA said, and "
         "traders expect purchases of 12 million tonnes by January.")


def test_retelling_keeps_aligned_sentences_and_attributed_quotes():
    src = _sets(SOURCE)
    retold = fingerprint(RETOLD, keep_positions=True)
    other = fingerprint(OTHER, keep_positions=True)
    assert aligned_sentences(retold, src) >= 0.8
    assert aligned_sentences(other, src) <= 0.4
    # the retelling quotes Bessent as the source does; the other article quotes someone else
    assert attributed_quotes(retold, src) >= 0.5 and attributed_quotes(other, src) < 0.1
    f_ret = derivation_features(retold, src, score(retold, src))
    f_oth = derivation_features(other, src, score(other, src))
    assert set(f_ret) == set(MEASURED) >= set(DERIVATION_FEATURES)
    assert f_ret["own_facts"] < f_oth["own_facts"]  # the retelling has nothing of its own
    assert f_ret["numbers"] > f_oth["numbers"]


def test_shipped_derivation_model_is_json_and_tells_the_two_apart():
    from farmscore.config import models_dir

    spec = json.loads((models_dir() / "provenance.json").read_text())
    assert spec["features"] == list(DERIVATION_FEATURES)
    assert spec["methods"] == ["paraphrase", "spin"]
    model = DerivationModel.load()
    src = _sets(SOURCE)
    retold = fingerprint(RETOLD, keep_positions=True)
    other = fingerprint(OTHER, keep_positions=True)
    assert model.derived(retold, src, score(retold, src), "paraphrase")
    assert not model.derived(other, src, score(other, src), "paraphrase")
    strong = Scores(immutables=0.9, immutables_shared=30)  # a spin of the whole article
    assert model.derived(other, src, strong, "spin")  # strong spins are not gated
    with pytest.raises(ValueError, match="refit"):
        DerivationModel({**spec, "features": spec["features"][:-1]})


def test_weak_spins_are_gated_like_paraphrases():
    """A same-event article sharing one background paragraph matches its sibling as a weak
    spin (dev: containment 0.20-0.28, 35-87 shared immutable shingles); a spinner's rewrite
    of a whole article keeps a high containment or many shingles (seeds 001, 004: 0.27 with
    134 and 136)."""
    model = DerivationModel.load()
    clear, least = model.spin["clear"], model.spin["min_shared"]
    assert 0.28 < clear <= 0.46 and 87 < least <= 134
    assert model.weak_spin(Scores(immutables=0.25, immutables_shared=60))
    assert not model.weak_spin(Scores(immutables=0.27, immutables_shared=134))
    assert not model.weak_spin(Scores(immutables=0.5, immutables_shared=30))
    src = _sets(SOURCE)
    other = fingerprint(OTHER, keep_positions=True)
    retold = fingerprint(RETOLD, keep_positions=True)
    s_other, s_retold = score(other, src), score(retold, src)
    for s in (s_other, s_retold):  # the same page scores, matched as a weak spin
        s.immutables, s.immutables_shared = 0.25, 60
    assert not model.derived(other, src, s_other, "spin")  # another article: dropped
    assert model.derived(retold, src, s_retold, "spin")  # a retelling passes the decision
    # a model file from before the gate leaves spins alone
    spec = json.loads(json.dumps(model.spec))
    spec.pop("spin")
    assert DerivationModel(spec).derived(other, src, s_other, "spin")


def test_figures_route_of_the_model():
    model = DerivationModel.load()
    base = dict.fromkeys(MEASURED, 0.0)
    base["own_facts"] = 5.0  # a padded farm page: many facts of its own
    r = model.rule
    keeps = {**base, "numbers": r["numbers"], "source_terms": r["source_terms"],
             "fact_pairs": r["fact_pairs"]}
    assert model.keeps_figures(keeps) and model.decide(keeps)
    assert not model.keeps_figures({**keeps, "numbers": r["numbers"] - 0.05})


def test_index_without_derivation_model_keeps_every_candidate(tmp_path):
    with open_index(tmp_path / "a", derivation=None) as loose, open_index(tmp_path / "b") as strict:
        for idx in (loose, strict):
            idx.add([{"id": "src", "text": SOURCE}])
        assert {c.method for c in loose.candidates(OTHER)} <= {"spin", "paraphrase"}
        assert len(loose.query(OTHER)) >= len(strict.query(OTHER))
        assert [m.id for m in strict.query(RETOLD)] == ["src"]


# ---- retrieval: a rephrasing that keeps only its source's vocabulary ------------------------
FARM_SOURCE = (
    "Soybean growers across the prairie welcomed the tariff reprieve on Tuesday, saying the "
    "temporary suspension of retaliatory duties would revive shipments stalled since spring. "
    "Elevator operators reported that barges idled along the river could be loaded within days. "
    "Agronomists cautioned that fertiliser costs and drought had already squeezed harvests, and "
    "that farmers remained wary of another reversal before the autumn planting decisions. "
    "Commodity brokers said futures climbed sharply as exporters rushed to book cargoes, while "
    "lenders signalled they might extend credit lines that had tightened during the dispute.")
FARM_REPHRASED = (
    "Farmers who grow soybeans on the prairie are relieved: the reprieve from tariffs means "
    "retaliatory duties are suspended, and shipments that stalled in spring may revive. "
    "Barges sitting idle on the river could soon be loaded, elevator operators say. Still, "
    "agronomists warn that drought and fertiliser bills squeezed the harvest, and growers are "
    "wary of a reversal ahead of autumn planting. Futures climbed, brokers noted, as exporters "
    "booked cargoes and lenders weighed extending credit lines.")


def test_a_rephrasing_that_keeps_only_the_vocabulary_retrieves_its_source(locations):  # noqa: F811
    """No shared word shingle, immutable shingle or fact pair: only the source's terms
    (stemmed rare content words) connect the two, and the term keys find it."""
    page = fingerprint(FARM_REPHRASED, keep_positions=True)
    src = fingerprint(FARM_SOURCE)
    assert not set(page.immutables.tolist()) & set(src.immutables.tolist())
    assert not set(page.shingles.tolist()) & set(src.shingles.tolist()) and not len(page.pairs)
    with open_index(locations.new(), derivation=None) as index:
        index.add([{"id": "src", "text": FARM_SOURCE}, {"id": "other", "text": OTHER}])
        got = [r.id for r in index.store.pages(index._candidates(page, set()))]
        assert got == ["src"]
        assert "src" not in [r.id for r in index.store.pages(
            index._candidates(fingerprint(OTHER, keep_positions=True), set()))]


# ---- dates ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, stored", [
    ("2017-12-09", "2017-12-09"),
    ("December 9, 2017", "2017-12-09"),
    ("9 December 2017", "2017-12-09"),
    ("Sat, 09 Dec 2017 10:00:00 +0100", "2017-12-09T09:00:00+00:00"),
    ("Sat, 09 Dec 2017 10:00:00 EST", "2017-12-09T15:00:00+00:00"),
    ("2017-12-09T10:00:00-05:00", "2017-12-09T15:00:00+00:00"),
    ("2017-12-09T10:00:00Z", "2017-12-09T10:00:00+00:00"),
    ("2017-12-09T10:00:00", "2017-12-09T10:00:00+00:00"),
    ("December 9, 2017 4:30 PM", "2017-12-09T16:30:00+00:00"),
    (None, None), ("", None),
])
def test_feed_dates_are_read_and_stored_in_one_sortable_form(value, stored):
    assert normalise_published(value) == stored


@pytest.mark.parametrize("value, reason", [
    ("last tuesday", "not a date"), ("Tuesday", "not a full date"),
    ("December 2017", "not a full date"), ("2017", "not a full date"),
    ("32 December 2017", "not a date"), (20171209, "must be a date string"),
])
def test_unreadable_dates_say_why(value, reason):
    with pytest.raises(DateError, match=reason):
        normalise_published(value)


def test_offsets_sort_as_time_does():
    a = normalise_published("Sat, 09 Dec 2017 23:30:00 -0500")  # 04:30 UTC on the 10th
    b = normalise_published("2017-12-10T02:00:00+00:00")
    assert b < a


def test_cli_index_add_reads_feed_dates_and_reports_bad_ones(tmp_path, seeds, seed_expectations):
    from farmscore.commands import index as cmd

    jsonl = tmp_path / "pages.jsonl"
    lines = [json.dumps({"id": "rfc", "text": first_copy(seeds, seed_expectations),
                         "published": "Sat, 25 Oct 2025 08:00:00 +0800"}),
             json.dumps({"id": "written", "text": seeds["004"], "published": "October 26, 2025"}),
             json.dumps({"id": "bad", "text": seeds["001"], "published": "sometime in autumn"}),
             json.dumps({"id": "iso", "text": seeds["002"], "published": "2025-10-27T10:00:00+02:00"})]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    cmd.register(parser.add_subparsers())
    loc = str(tmp_path / "idx")
    args = parser.parse_args(["index", "add", "--jsonl", str(jsonl), "--index", loc])
    err = io.StringIO()
    assert args.func(args, stderr=err) == 1
    out = err.getvalue()
    assert "line 3:" in out and "'sometime in autumn' is not a date" in out
    assert "added 3, skipped duplicates 0, errors 1" in out
    with open_index(loc, create=False) as index:
        rows = {r.id: r.published for r in index.store.pages(list(range(1, 4)))}
    assert rows == {"rfc": "2025-10-25T00:00:00+00:00", "written": "2025-10-26",
                    "iso": "2025-10-27T08:00:00+00:00"}


def test_a_bad_date_in_a_batch_loses_nothing_else(tmp_path, seeds):
    with open_index(tmp_path / "idx") as index:
        with pytest.raises(InvalidPageError, match="not a full date"):
            index.add([{"id": "a", "text": seeds["004"], "published": "June 2025"}])
        assert len(index) == 0
        res = index.add([{"id": "a", "text": seeds["004"], "published": "June 2025"},
                         {"id": "b", "text": seeds["001"], "published": "June 3, 2025"}],
                        strict=False)
        assert res.added == 1 and res.errors[0][0] == 0


# ---- the same-event evaluation: each figure's floor -----------------------------------------
@pytest.fixture(scope="module")
def same_event_figures(shared_data):
    from training.eval_provenance import run

    res, es = run("test")
    return res, es


def _share(pair: tuple[int, int]) -> float:
    k, n = pair
    return k / n if n else math.nan


@pytest.mark.data
def test_same_event_set_is_real_and_split_by_event(same_event_figures):
    from training.same_event import _collections, split_of

    _, es = same_event_figures
    assert es.n_events >= 300 and len(es.clean) >= 300 and len(es.gpt) >= 40
    stories, events = _collections()
    for ev in events[:200]:  # an event's articles are all in one split
        assert len({split_of(min(stories[i].id for i in ev))}) == 1
    indexed = {p["id"] for p in es.index_pages}
    assert not indexed & {s.id for s in es.clean}


@pytest.mark.data
def test_false_source_floor(same_event_figures):
    """Measured 0.6 % (2 of 342, both paraphrase) on the test events since the weak-spin
    gate; 2.0 % (7, 5 of them weak spins) before it, 9.4 % before issue 15. Target 1 %."""
    res, _ = same_event_figures
    assert _share(res["false_source"]) <= 0.01
    assert res["false_methods"]["spin"] == 0  # no sibling named as a weak spin


@pytest.mark.data
@pytest.mark.parametrize("kind", ["copy", "double", "tail", "spin20", "spin40"])
def test_right_source_floor(same_event_figures, kind):
    """Measured 100 % for every kind on the test events (96.6-99.1 % before issue 15)."""
    res, _ = same_event_figures
    assert _share(res[kind]) >= 0.97


@pytest.mark.data
def test_gpt_rephrasings_floor(same_event_figures):
    """Measured 34 of 58 = 58.6 % source@1 (50.0 % before the term keys, 58.6 % before issue
    15). Target 0.80: not met; what is lost now is the decision (4 sources fail every
    method's threshold, 20 are dropped by the derivation check), not retrieval."""
    res, _ = same_event_figures
    assert _share(res["gpt"]) >= 0.55


@pytest.mark.data
def test_gpt_rephrasings_sources_are_retrieved(same_event_figures):
    """Measured 58 of 58 with the term keys; 45 of 58 without them (MinHash bands, sampled
    immutables and fact pairs miss short summaries that keep few nearby names)."""
    res, _ = same_event_figures
    assert _share(res["gpt_retrieved"]) >= 0.95
