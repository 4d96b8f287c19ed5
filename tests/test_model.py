"""The shipped model: loads from text files, is calibrated, and flags the seeds for the right reasons."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from scoring.model import HEADS, ModelScorer, SchemaMismatch
from scoring.score import build_scorer

FAMILY_OF = {"dup_": "duplication", "tail_": "clickbait", "title_": "clickbait", "bp_": "boilerplate",
             "tpl_": "template_headings", "fs_": "foreign_script", "ts_": "textstats",
             "spin_": "spinning", "orig_": "originality", "out_": "clean_outliers"}


def family(feature: str) -> str:
    return next(f for p, f in FAMILY_OF.items() if feature.startswith(p))


def top_families(contrib: dict[str, float], k: int = 3) -> set[str]:
    """Families of the k features that push most towards "farm"."""
    pushes = sorted(((v, n) for n, v in contrib.items() if n != "(baseline)" and v > 0), reverse=True)
    return {family(n) for _, n in pushes[:k]}


@pytest.fixture(scope="module")
def model():
    return ModelScorer().load()


def first_copy_of_seed_000(text: str) -> str:
    """The Reuters original stands in as seed 000's first copy: up to where the repeat starts."""
    para = "The talks on the sidelines of the Association"
    second = text.index(para, text.index(para) + 1)
    return text[:second].strip()


@pytest.fixture(scope="module")
def scorer_with_source(seeds, tmp_path_factory):
    from originality import open_index

    path = tmp_path_factory.mktemp("idx") / "index"
    index = open_index(str(path), create=True)
    index.add([{"id": "reuters-original", "text": first_copy_of_seed_000(seeds["000"]),
                "published": "2025-10-25"}])
    yield build_scorer(index=index)
    index.close()


def test_model_files_are_text_and_match_the_schema(model):
    from features.schema import current_schema

    assert model.spec["schema"]["hash"] == current_schema().hash
    for h in HEADS:
        cal = model.spec["heads"][h]["calibration"]
        assert np.all(np.diff(cal["x"]) >= 0) and np.all(np.diff(cal["y"]) >= -1e-12)
        assert 0.0 <= min(cal["y"]) and max(cal["y"]) <= 1.0


def test_schema_mismatch_is_refused(tmp_path):
    from farmscore.config import models_dir

    for f in models_dir().glob("*.lgb.txt"):
        shutil.copy(f, tmp_path / f.name)
    spec = json.loads((models_dir() / "model.json").read_text())
    spec["schema"]["hash"] = "0000000000000000"
    (tmp_path / "model.json").write_text(json.dumps(spec))
    with pytest.raises(SchemaMismatch):
        ModelScorer(tmp_path / "model.json").load()


def test_cli_default_is_the_shipped_model(model):
    scorer = build_scorer()
    assert scorer.model_info["name"] == model.spec["name"]


@pytest.mark.parametrize("seed,families", [
    ("000", {"duplication", "clickbait"}),
    ("002", {"duplication", "boilerplate", "foreign_script"}),
    ("003", {"template_headings", "boilerplate"}),
])
def test_seeds_000_to_003_below_quality_threshold_for_the_right_reasons(seeds, model, seed, families):
    rec = build_scorer().score(seeds[seed], seed, explain=True)
    assert rec["quality"] <= model.spec["thresholds"]["farm"]["quality"], rec
    assert rec["verdict"] == "farm"
    assert top_families(rec["contributions"]["quality"]) & families


def test_seed_001_without_its_source_is_flagged_for_its_spinning(seeds, model):
    """Seed 001 is spun, with a photo caption on top; here no source is indexed, so only the
    page itself can show it: its spinning puts its quality past "suspect" and spinning is
    why. Not "farm": its spin rates are reached by about 1 clean page in 100 (short clean
    briefs above all), and the verdict's threshold sits at 0.4 % of clean pages. Model 1.9.0
    called it "farm" on originality at 0.0983 against 0.1, a margin its retraining on this
    machine's data set did not keep (0.11; README's model history). With the source indexed
    it is "farm" (``test_seeds_low_originality_with_the_source_indexed``)."""
    rec = build_scorer().score(seeds["001"], "001", explain=True)
    assert rec["verdict"] in ("farm", "suspect")
    assert rec["quality"] <= model.spec["thresholds"]["suspect"]["quality"], rec
    assert "spinning" in top_families(rec["contributions"]["quality"], k=2)


def test_seed_004_quality_is_fine(seeds, model):
    rec = build_scorer().score(seeds["004"], "004")
    assert rec["quality"] > model.spec["thresholds"]["farm"]["quality"]


def _originality_verdict(model, rec) -> str:
    t = model.spec["thresholds"]
    if rec["originality"] <= t["farm"]["originality"]:
        return "farm"
    return "suspect" if rec["originality"] <= t["suspect"]["originality"] else "ok"


def test_seed_001_spinning_lowers_originality_without_the_source(seeds, model):
    """Spinning alone, no index: the spun page reads as less original than the clean seed
    004, and spinning is among the reasons."""
    scorer = build_scorer()
    rec = scorer.score(seeds["001"], "001", explain=True)
    clean = scorer.score(seeds["004"], "004")
    assert rec["originality"] < clean["originality"] - 0.2, (rec["originality"], clean)
    assert "spinning" in top_families(rec["contributions"]["originality"], k=4)


def test_seeds_name_their_source_when_indexed(seeds, scorer_with_source):
    for seed in ("001", "002", "003", "004"):
        rec = scorer_with_source.score(seeds[seed], seed)
        assert rec["source"] and rec["source"]["id"] == "reuters-original", seed


@pytest.mark.parametrize("seed,reasons,level", [
    ("001", {"originality", "spinning"}, "farm"),
    ("002", {"originality"}, "farm"),
    ("003", {"originality"}, "farm"),
    ("004", {"originality"}, "farm"),
])
def test_seeds_low_originality_with_the_source_indexed(seeds, model, scorer_with_source, seed,
                                                      reasons, level):
    rec = scorer_with_source.score(seeds[seed], seed, explain=True)
    assert _originality_verdict(model, rec) in {"farm", level}, rec["originality"]
    assert top_families(rec["contributions"]["originality"]) & reasons


def test_batch_and_single_predictions_agree(seeds, model):
    from features.pipeline import FeaturePipeline

    feats = [FeaturePipeline().run(t).features for t in seeds.values()]
    batch = model.score_many(feats, num_threads=2)
    single = [model.score(f) for f in feats]
    assert batch == single


def test_clean_originals_mostly_ok(clean_originals, model):
    scorer = build_scorer()
    arts = clean_originals[::10]
    farm = sum(scorer.score(a.text, a.id)["verdict"] == "farm" for a in arts)
    assert farm <= 0.02 * len(arts) + 1


def test_short_clean_pages_are_not_farms(clean_originals, shared_data):
    """A short page is nobody's copy for being short. Model 1.6.0, trained on clean pages of
    100+ words only, called 23-24 % of real Reuters wire items of under 100 words "farm", and 99.7 %
    of the 60-word openings of BBC originals; the simulator's clean briefs fixed that (1.7.0:
    0-2 %, ``README``). Reuters items under 150 words are in no training or test set; the
    openings are of the false-positive sample (half of it Reuters, a collection no model
    trains on)."""
    from training.corpus import reuters_articles

    scorer = build_scorer()
    wire = [a.text for a in reuters_articles() if 30 <= len(a.text.split()) < 150][:150]
    openings = [" ".join(a.text.split()[:60]) for a in clean_originals[::10]]
    for name, texts in (("wire items", wire), ("openings", openings)):
        farm = sum(scorer.score(t)["verdict"] == "farm" for t in texts)
        assert farm <= 0.04 * len(texts), (name, farm, len(texts))


def test_explanations_name_schema_features_and_keep_the_total(model, seeds):
    """The clean-outlier columns' contributions are folded onto the signals they summarise:
    every contribution still adds up to the head's raw log-odds, and a seed whose tail is
    far outside clean pages is explained by its tail and duplication features, not by an
    anonymous outlier column."""
    from scoring.score import build_scorer

    scorer = build_scorer()
    feats = scorer.pipeline.run(seeds["000"]).features
    wide = ModelScorer(top_k=10_000).load()
    expl = wide.explain(feats)
    x = wide.inputs(wide._matrix([feats]))
    for h in HEADS:
        log_odds = float(wide.boosters[h].predict(x, raw_score=True)[0])
        total = sum(expl[h].values())  # (each value rounded to 4 decimals)
        assert total == pytest.approx(log_odds, abs=0.02)
        named = [k for k, v in expl[h].items() if v > 0 and k.startswith("out_")]
        assert not named, f"{h}: outlier columns left unnamed: {named}"
