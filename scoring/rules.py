"""Transparent rule-based scores: the baseline until (and beside) the trained model.

Each *signal* is the strength, in [0, 1], of the evidence for one farm technique (1 = the
technique is clearly there). Quality and originality combine them so that a reader can
recompute every score by hand from the features:

* ``quality = prod(1 - weight * signal)`` over the filler signals (pasted twice, clickbait
  tail, boilerplate, template headings, foreign-script leftovers);
* ``originality = 1 - max(signal)`` over the copying signals (spinning, a matched source).

Signals whose features are absent (an extractor not in the pipeline) count as 0.
"""

from __future__ import annotations

from dataclasses import dataclass

MODEL_NAME = "farmscore-rules"
MODEL_VERSION = "1"


def _clip(x: float) -> float:
    return 0.0 if x != x else min(1.0, max(0.0, x))  # NaN -> 0


def signals_from_features(f: dict[str, float]) -> dict[str, float]:
    """Per-technique signal strengths from the named features."""
    g = f.get
    s: dict[str, float] = {}
    if "dup_paste_detected" in f:
        s["pasted_twice"] = (_clip(0.6 + g("dup_paste_frac", 0.0)) if g("dup_paste_detected")
                             else _clip(g("dup_repeated_word_frac", 0.0)))
    if "tail_detected" in f:
        s["clickbait_tail"] = (_clip(0.6 + 0.2 * g("tail_marker", 0.0) + 0.2 * g("tail_offtopic_frac", 0.0))
                               if g("tail_detected") else 0.0)
    if "tpl_heading_count" in f:
        s["template_headings"] = _clip(g("tpl_heading_count", 0.0) / 3.0)
    if "fs_foreign_runs" in f:
        s["foreign_script"] = _clip(g("fs_foreign_runs", 0.0) / 2.0 + 10 * g("fs_mixed_script_words", 0.0))
    if "bp_families" in f:
        s["disclaimer"] = _clip(g("bp_disclaimer", 0.0))
        s["comment_form"] = _clip(g("bp_comment_form", 0.0) / 2.0)
        other = g("bp_lines", 0.0) - g("bp_disclaimer", 0.0) - g("bp_comment_form", 0.0)
        s["boilerplate"] = _clip(other / 4.0)
    if "spin_score" in f:
        s["spinning"] = _clip(g("spin_score", 0.0))
    if "orig_has_match" in f:
        s["copied"] = _clip(0.5 + g("orig_coverage", 0.0)) if g("orig_has_match") else 0.0
    return s


QUALITY_WEIGHTS = {"pasted_twice": 0.9, "clickbait_tail": 0.7, "disclaimer": 0.5,
                   "comment_form": 0.4, "boilerplate": 0.3,
                   "template_headings": 0.5, "foreign_script": 0.4, "spinning": 0.6}
ORIGINALITY_SIGNALS = ("spinning", "copied")


def combine(sig: dict[str, float]) -> tuple[float, float]:
    """(quality, originality) from signal strengths, by the formulas in the module docstring."""
    quality = 1.0
    for name, w in QUALITY_WEIGHTS.items():
        quality *= 1.0 - w * sig.get(name, 0.0)
    originality = 1.0 - max((sig.get(n, 0.0) for n in ORIGINALITY_SIGNALS), default=0.0)
    return quality, originality


@dataclass(frozen=True)
class RuleScorer:
    """Scores from features, with named thresholds for the verdict."""

    farm_below: float = 0.5
    suspect_below: float = 0.75
    name: str = MODEL_NAME
    version: str = MODEL_VERSION

    def score(self, features: dict[str, float]) -> dict:
        sig = signals_from_features(features)
        quality, originality = combine(sig)
        return {"originality": round(originality, 4), "quality": round(quality, 4),
                "verdict": self.verdict(originality, quality),
                "signals": {k: round(v, 4) for k, v in sig.items()}}

    def explain(self, features: dict[str, float]) -> dict[str, dict[str, float]]:
        """How much each signal lowers each score: the score with that signal zeroed minus
        the score as it is (0 for signals that play no part)."""
        base = self.score(features)
        sig = signals_from_features(features)
        out: dict[str, dict[str, float]] = {"quality": {}, "originality": {}}
        for name, v in sig.items():
            if not v:
                continue
            q, o = combine({**sig, name: 0.0})
            out["quality"][name] = round(base["quality"] - q, 4)
            out["originality"][name] = round(base["originality"] - o, 4)
        return out

    def verdict(self, originality: float, quality: float) -> str:
        low = min(originality, quality)
        return "farm" if low < self.farm_below else "suspect" if low < self.suspect_below else "ok"

    @property
    def model_info(self) -> dict:
        return {"name": self.name, "version": self.version, "kind": "rules (baseline, no trained model)"}
