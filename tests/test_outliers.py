"""Clean-outlier columns (scoring.outliers): tail scores against clean pages, the same on one
row as on a matrix, and kept exactly through the model file's JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scoring.outliers import LEVELS, CleanOutliers, derived_names

NAMES = ["a", "b", "c", "d"]
GROUPS = {"g1": ("a", "b"), "g2": ("b", "c", "d")}


@pytest.fixture
def fitted() -> CleanOutliers:
    rng = np.random.default_rng(3)
    clean = np.column_stack([
        np.zeros(999),                      # a: always 0 on clean pages
        rng.exponential(1.0, 999),          # b: a long clean tail
        rng.integers(0, 3, 999),            # c: small counts
        rng.normal(0.0, 1.0, 999),          # d
    ]).astype(np.float32)
    return CleanOutliers(NAMES, GROUPS, strata={}).fit(clean)


def test_a_value_beyond_every_clean_page_gets_the_largest_score(fitted):
    s = fitted.tail_scores(np.array([[0.5, 0.0, 0.0, 0.0]], dtype=np.float32))["g1"]
    assert s["a"][0] == pytest.approx(math.log10(1000))  # no clean page at or above 0.5
    # every clean page is at or above a of 0: no evidence
    assert fitted.tail_scores(np.zeros((1, 4)))["g1"]["a"][0] == pytest.approx(0.0)


def test_scores_grow_with_the_signal(fitted):
    x = np.column_stack([np.zeros(5), [0.1, 1.0, 2.0, 4.0, 8.0], np.zeros(5), np.zeros(5)])
    b = fitted.tail_scores(x)["g1"]["b"]
    assert (np.diff(b) > 0).all()
    assert b[0] < 0.1 and b[-1] > 2.5


def test_one_row_equals_the_matrix_path(fitted):
    rng = np.random.default_rng(4)
    x = np.column_stack([rng.choice([0.0, 0.2], 50), rng.exponential(2.0, 50),
                         rng.integers(0, 6, 50), rng.normal(0.0, 2.0, 50)])
    full = fitted.transform(x)
    assert full.shape == (50, 4 + len(derived_names(GROUPS)))
    assert np.allclose(full[:, :4], x)
    for i in range(50):
        assert np.allclose(fitted.row_columns(list(x[i])), full[i, 4:])


def test_group_summaries(fitted):
    row = [0.5, 50.0, 0.0, 0.0]  # a and b beyond every clean page
    cols = dict(zip(derived_names(GROUPS), fitted.row_columns(row)))
    top = math.log10(1000)
    assert cols["out_g1_max"] == pytest.approx(top)
    assert cols["out_g1_top2"] == pytest.approx(2 * top)
    assert cols[f"out_g1_n{int(LEVELS[-1])}"] == 2
    assert cols["out_g2_n2"] == 1  # only b of g2's signals


def test_json_round_trip_keeps_every_value(fitted):
    back = CleanOutliers.from_json(json.loads(json.dumps(fitted.to_json())), NAMES)
    x = np.array([[0.0, 3.0, 2.0, 1.5], [0.3, 0.01, 0.0, -1.0]])
    assert np.array_equal(back.transform(x), fitted.transform(x))


def test_attribution_names_the_signals_behind_each_column(fitted):
    row = [0.5, 50.0, 0.0, 0.0]  # a and b beyond every clean page; c and d ordinary
    att = fitted.attribution(row)
    assert set(att) == set(derived_names(GROUPS))
    assert att["out_g2_max"] == {"b": 1.0}
    assert att["out_g1_top2"] == pytest.approx({"a": 0.5, "b": 0.5})
    assert att["out_g1_n3"] == pytest.approx({"a": 0.5, "b": 0.5})
    for weights in att.values():
        assert not weights or sum(weights.values()) == pytest.approx(1.0)
    # nothing outside clean pages: nothing to name
    assert all(not w for k, w in fitted.attribution([0.0, 0.0, 0.0, -9.0]).items()
               if k.endswith(("_n2", "_n3")))


def test_a_stratified_group_compares_a_page_with_clean_pages_of_its_length():
    """A rate that clean short pages often reach is still far out on a long page if clean
    long pages never reach it (why the spinning rates are scored by length)."""
    rng = np.random.default_rng(5)
    short = np.column_stack([np.full(500, 1.8), rng.uniform(0.0, 9.0, 500)])  # log10 words, rate
    long_ = np.column_stack([np.full(500, 2.9), rng.uniform(0.0, 2.0, 500)])
    clean = np.vstack([short, long_]).astype(np.float32)
    names, groups = ["len", "rate"], {"r": ("rate",)}
    flat = CleanOutliers(names, groups, strata={}).fit(clean)
    by_len = CleanOutliers(names, groups, strata={"r": ("len", (2.3,))}).fit(clean)
    page = np.array([[2.9, 3.0]])
    assert flat.tail_scores(page)["r"]["rate"][0] < 0.5      # 1 clean page in ~3 is higher
    assert by_len.tail_scores(page)["r"]["rate"][0] == pytest.approx(math.log10(501))
    assert by_len.tail_scores(np.array([[1.8, 3.0]]))["r"]["rate"][0] < 0.3
    # the one-row path, the matrix path and the JSON copy agree, strata and all
    back = CleanOutliers.from_json(json.loads(json.dumps(by_len.to_json())), names)
    rows = np.column_stack([rng.choice([1.8, 2.9, 2.3], 40), rng.uniform(0, 10, 40)])
    full = by_len.transform(rows)
    assert np.array_equal(back.transform(rows), full)
    for i in range(40):
        assert np.allclose(by_len.row_columns(list(rows[i])), full[i, 2:])
