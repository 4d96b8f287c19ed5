"""The feature schema is stable: code and the frozen file agree."""

from __future__ import annotations

from features.lexicon import SKLEARN_STOP_WORDS
from features.pipeline import FeaturePipeline
from features.schema import SCHEMA_VERSION, current_schema, frozen_schema


def test_code_matches_frozen_schema():
    frozen = frozen_schema()
    cur = current_schema()
    assert frozen["version"] == SCHEMA_VERSION
    assert frozen["names"] == list(cur.names), (
        "features changed: bump SCHEMA_VERSION and run `farmscore schema --write`")
    assert frozen["hash"] == cur.hash


def test_pipeline_emits_schema_in_order(seeds):
    page = FeaturePipeline().run(seeds["004"])
    assert tuple(page.features) == current_schema().names
    vec = page.vector(current_schema().names)
    assert vec.shape == (len(current_schema().names),)
    assert all(v == v for v in vec)  # no NaN


def test_families_partition_the_names():
    cur = current_schema()
    flat = [n for fam in cur.families.values() for n in fam]
    assert flat == list(cur.names) and len(set(flat)) == len(flat)


def test_frozen_stop_words_equal_scikit_learns():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    assert SKLEARN_STOP_WORDS == frozenset(ENGLISH_STOP_WORDS)
