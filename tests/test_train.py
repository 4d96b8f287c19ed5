"""Calibration and operating thresholds of `training.train`, on synthetic scores."""

from __future__ import annotations

import numpy as np
import pytest

from training.dataset import indexed_text
from training.train import _common_quantile, _score_threshold, calibration_table


def test_calibration_is_strictly_increasing_where_thresholds_live():
    """Isotonic regression ends in a flat block at 1.0; the sigmoid table must not, or no
    threshold could separate the pages inside the block."""
    rng = np.random.default_rng(0)
    raw = np.concatenate([rng.beta(3, 5, 2000), rng.beta(5, 3, 2000)])
    y = np.concatenate([np.zeros(2000), np.ones(2000)])
    cal = calibration_table(raw, y)
    xs, ys = np.array(cal["x"]), np.array(cal["y"])
    assert np.all(np.diff(xs) > 0)
    inside = (ys > 1e-12) & (ys < 1 - 1e-12)  # short of float64's saturation
    assert inside.sum() > 150 and np.all(np.diff(ys[inside]) > 0)
    # calibrated: the two classes overlap around 0.5 and separate towards the ends
    assert abs(np.interp(0.5, xs, ys) - 0.5) < 0.1
    assert np.interp(0.85, xs, ys) > 0.9 and np.interp(0.15, xs, ys) < 0.1


def test_backwards_head_is_refused():
    raw = np.linspace(0.01, 0.99, 200)
    with pytest.raises(ValueError, match="backwards"):
        calibration_table(raw, (raw < 0.5).astype(float))


def test_common_quantile_keeps_the_verdict_within_its_false_positive_budget():
    rng = np.random.default_rng(1)
    p = {"quality": rng.random(3000), "originality": rng.random(3000)}
    q, thr = _common_quantile(p, target=0.008)
    flagged = (p["quality"] >= thr["quality"]) | (p["originality"] >= thr["originality"])
    assert flagged.mean() <= 0.008
    # and it is the loosest such percentile: one step lower breaks the budget
    q2 = q - 0.0001
    thr2 = {h: np.quantile(v, q2) for h, v in p.items()}
    flagged2 = (p["quality"] >= thr2["quality"]) | (p["originality"] >= thr2["originality"])
    assert flagged2.mean() > 0.008 or q2 <= 0.90


def test_score_threshold_rounds_towards_flagging_fewer_pages():
    assert _score_threshold(0.95004) == 0.0499
    assert _score_threshold(0.9) == pytest.approx(0.1)


def test_indexed_text_is_the_story_or_an_earlier_prefix_of_it():
    pars = [f"Paragraph {i} of the story." for i in range(10)]
    text = "\n\n".join(pars)
    versions = [indexed_text(f"bbc/x/{i}", text) for i in range(200)]
    shorter = [v for v in versions if v != text]
    assert 0.15 < len(shorter) / len(versions) < 0.45
    for v in shorter:
        assert text.startswith(v) and 3 <= v.count("\n\n") + 1 < 10
    assert indexed_text("bbc/x/1", "Title\n\nOne paragraph.") == "Title\n\nOne paragraph."
