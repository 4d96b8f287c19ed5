"""How far a page's farm signals stand outside clean pages: family-agnostic model inputs.

Why: a head trained on our farm families learns each family's own features (a tail's
length, a disclaimer's line count) and little else, so a farm made another way, whose
evidence lands in other features, scores as clean (``farmscore evaluate --leave-out``).
What every farm shares is that *some* signal is far outside what clean pages show. So each
signal feature is turned into its *clean tail score*: ``-log10`` of the share of clean
training pages at or above the page's value (``(n_ge + 1) / (n + 1)``, so at most
``log10(n + 1)``). A head that learns "a signal beyond every clean page means farm" from the
families it sees applies it to a family it never saw, whose evidence moves other signals.

Signals are named, with the direction in which they mean "farm" (higher); the scores are
summarised per group (filler on the page, rewording of a source) as the largest, the sum of
the two largest and the number of signals past 2 (1 clean page in 100) and 3 (1 in 1,000).
The rewording group is scored against clean pages of similar length (:data:`STRATA`).

Fitted like a scikit-learn transformer (:meth:`CleanOutliers.fit` on clean training rows,
:meth:`CleanOutliers.transform`) and stored in the model file as plain JSON tables.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right

import numpy as np

#: Signal features by group, each read as "higher is more farm-like".
SIGNALS: dict[str, tuple[str, ...]] = {
    "filler": (
        "dup_line_char_frac", "dup_para_char_frac", "dup_paste_frac", "dup_8gram_char_frac",
        "tail_char_frac", "tail_lines", "tail_offtopic_frac", "tail_clickbait_max",
        "bp_lines", "bp_char_frac", "bp_families", "bp_ml_chrome_frac", "bp_ml_tail_frac",
        "bp_ml_disclaimer", "bp_ml_comment_form", "bp_ml_spam_link", "bp_ml_inner_chrome",
        "tpl_heading_frac", "tpl_headings_per_1k_words", "ts_invisible_char_frac",
        "fs_mixed_script_words",
    ),
    "reword": (
        "spin_phrases_per_100w", "spin_word_frac", "spin_names_per_100w",
        "spin_tortured_per_100w", "spin_rare_synonym_frac", "spin_gain_per_100w", "spin_score",
        "dup_paste_frac", "dup_para_char_frac",
    ),
}
#: Tail-score levels counted per group: 2 = beyond 99 % of clean pages, 3 = beyond 99.9 %.
LEVELS = (2.0, 3.0)
#: Groups whose clean distributions are taken among pages of similar length: a feature and
#: bin edges. Spinning signals are rates, and a rate is noisy on a short page: clean briefs
#: of 60 words reach 9 flagged phrases per 100 words, full clean articles never pass 3.3.
#: Against all clean pages a heavily spun full article looks ordinary; against clean pages
#: of its own length it stands out. (``ts_log_words`` is log10 of the word count: bins of
#: fewer than 200, 200-499 and 500 or more words, each with several hundred clean pages.)
STRATA: dict[str, tuple[str, tuple[float, ...]]] = {
    "reword": ("ts_log_words", (math.log10(200), math.log10(500))),
}


def derived_names(groups: dict[str, tuple[str, ...]] = SIGNALS) -> list[str]:
    """Names of the columns :meth:`CleanOutliers.transform` appends, in order."""
    out = []
    for g in groups:
        out += [f"out_{g}_max", f"out_{g}_top2"] + [f"out_{g}_n{int(lv)}" for lv in LEVELS]
    return out


def _table(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct clean values (float64) and, for each, the clean pages at or above it."""
    v, counts = np.unique(np.asarray(values, dtype=np.float64), return_counts=True)
    return v, np.cumsum(counts[::-1])[::-1]


class CleanOutliers:
    """Clean-tail scores of named signals, summarised per group (see module docstring).

    ``names``: the feature names of the rows to transform; ``groups``: signal names by
    group; ``strata``: for some groups, the feature and bin edges whose bins each have a
    clean distribution of their own (:data:`STRATA`).
    """

    def __init__(self, names: list[str] | tuple[str, ...],
                 groups: dict[str, tuple[str, ...]] = SIGNALS,
                 strata: dict[str, tuple[str, tuple[float, ...]]] = STRATA):
        self.names = names
        self.groups = groups
        self.strata = strata

    def _bins(self, g: str, x: np.ndarray) -> np.ndarray:
        """Each row's stratum in group ``g`` (all 0 for a group without strata)."""
        if g not in self.strata:
            return np.zeros(len(x), dtype=np.int64)
        feature, edges = self.strata[g]
        v = np.asarray(x[:, list(self.names).index(feature)], dtype=np.float32)
        return np.searchsorted(np.asarray(edges, dtype=np.float32), v, side="right")

    def fit(self, x_clean: np.ndarray) -> "CleanOutliers":
        """Learn each signal's clean distribution (per stratum) from clean pages' rows."""
        col = {n: i for i, n in enumerate(self.names)}
        self.n_clean_ = len(x_clean)
        self.tables_: dict[str, dict[str, list]] = {}
        for g, sigs in self.groups.items():
            bins = self._bins(g, x_clean)
            n_bins = len(self.strata[g][1]) + 1 if g in self.strata else 1
            self.tables_[g] = {
                sig: [(*_table(x_clean[bins == b, col[sig]]), int((bins == b).sum()))
                      for b in range(n_bins)]
                for sig in sigs}
        return self

    def tail_scores(self, x: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
        """Each group's signals' clean tail scores for every row of ``x``."""
        col = {n: i for i, n in enumerate(self.names)}
        out: dict[str, dict[str, np.ndarray]] = {}
        for g, tables in self.tables_.items():
            bins = self._bins(g, x)
            out[g] = {}
            for sig, per_bin in tables.items():
                # at the data set's float32 precision, so a value equal to a clean page's
                # matches it whether it comes from the data set or from a served page
                v = np.asarray(x[:, col[sig]], dtype=np.float32).astype(np.float64)
                score = np.zeros(len(x))
                for b, (values, n_ge, n) in enumerate(per_bin):
                    rows = bins == b
                    pos = np.searchsorted(values, v[rows], side="left")  # first value >= v
                    ge = np.where(pos < len(values), n_ge[np.minimum(pos, len(values) - 1)]
                                  if len(values) else 0, 0)
                    score[rows] = -np.log10((ge + 1.0) / (n + 1.0))
                out[g][sig] = score
        return out

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``x`` with the :func:`derived_names` columns appended."""
        x = np.atleast_2d(x)
        scores = self.tail_scores(x)
        cols = []
        for g, sigs in self.groups.items():
            s = np.column_stack([scores[g][n] for n in sigs])
            top = -np.sort(-s, axis=1)
            second = top[:, 1] if s.shape[1] > 1 else 0.0
            cols += [top[:, 0], top[:, 0] + second] + [(s >= lv).sum(axis=1) for lv in LEVELS]
        return np.column_stack([x] + cols)

    def row_scores(self, row: np.ndarray | list[float]) -> dict[str, dict[str, float]]:
        """:meth:`tail_scores` of one row, in pure Python (a page served alone costs a few
        microseconds, not one array call per signal)."""
        if not hasattr(self, "_row_tables"):
            col = {n: i for i, n in enumerate(self.names)}
            self._row_tables = {
                g: {s: (col[s], [(v.tolist(), c.tolist(), n) for v, c, n in per_bin])
                    for s, per_bin in tables.items()}
                for g, tables in self.tables_.items()}
            self._row_strata = {g: (col[f], [float(np.float32(e)) for e in edges])
                                for g, (f, edges) in self.strata.items() if g in self.groups}
        out: dict[str, dict[str, float]] = {}
        for g, tables in self._row_tables.items():
            b = 0
            if g in self._row_strata:
                i, edges = self._row_strata[g]
                b = bisect_right(edges, float(np.float32(row[i])))
            out[g] = {}
            for sig, (i, per_bin) in tables.items():
                values, n_ge, n = per_bin[b]
                pos = bisect_left(values, float(np.float32(row[i])))
                out[g][sig] = -math.log10(((n_ge[pos] if pos < len(values) else 0) + 1.0)
                                          / (n + 1.0))
        return out

    def row_columns(self, row: np.ndarray | list[float]) -> list[float]:
        """The :func:`derived_names` columns of one row; the same values as
        :meth:`transform`."""
        scores = self.row_scores(row)
        out: list[float] = []
        for g, sigs in self.groups.items():
            s = [scores[g][n] for n in sigs]
            top = sorted(s, reverse=True) + [0.0]
            out += [top[0], top[0] + top[1]] + [float(sum(v >= lv for v in s)) for lv in LEVELS]
        return out

    def attribution(self, row: np.ndarray | list[float]) -> dict[str, dict[str, float]]:
        """For each derived column of one row, the signals it stands for, with weights that
        sum to 1 (or no signals when the column is 0): ``max`` the largest signal, ``top2``
        the two largest in proportion to their scores, ``nL`` the signals at or past level
        L equally. Explanations fold a derived column's contribution onto these signals, so
        a user is told *which* feature stands outside clean pages, not "an outlier"."""
        all_scores = self.row_scores(row)
        out: dict[str, dict[str, float]] = {}
        for g, sigs in self.groups.items():
            scores = all_scores[g]
            ranked = sorted(sigs, key=lambda n: -scores[n])
            out[f"out_{g}_max"] = {ranked[0]: 1.0} if scores[ranked[0]] > 0 else {}
            top = {n: scores[n] for n in ranked[:2] if scores[n] > 0}
            total = sum(top.values())
            out[f"out_{g}_top2"] = {n: v / total for n, v in top.items()} if total else {}
            for lv in LEVELS:
                past = [n for n in sigs if scores[n] >= lv]
                out[f"out_{g}_n{int(lv)}"] = {n: 1.0 / len(past) for n in past}
        return out

    def to_json(self) -> dict:
        return {"n_clean": self.n_clean_, "groups": {g: list(s) for g, s in self.groups.items()},
                "strata": {g: [f, list(e)] for g, (f, e) in self.strata.items()
                           if g in self.groups},
                "tables": {g: {s: [{"values": v.tolist(), "n_ge": c.tolist(), "n": n}
                                   for v, c, n in per_bin] for s, per_bin in tables.items()}
                           for g, tables in self.tables_.items()}}

    @classmethod
    def from_json(cls, data: dict, names: list[str] | tuple[str, ...]) -> "CleanOutliers":
        obj = cls(names, {g: tuple(s) for g, s in data["groups"].items()},
                  {g: (f, tuple(e)) for g, (f, e) in data["strata"].items()})
        obj.n_clean_ = int(data["n_clean"])
        obj.tables_ = {g: {s: [(np.asarray(t["values"], dtype=np.float64),
                                np.asarray(t["n_ge"], dtype=np.int64), int(t["n"]))
                               for t in per_bin] for s, per_bin in tables.items()}
                       for g, tables in data["tables"].items()}
        return obj
