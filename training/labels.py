"""Moderator decisions as training data: the queue's export, read back by ``farmscore train``.

``farmscore queue export`` writes one JSON object per decided item::

    {"id", "text", "url", "label": "farm"|"clean", "techniques": [signal names], ...}

Each becomes a :class:`~training.simulator.FarmPage` in the training split. The techniques a
moderator ticks are signal names (``pasted_twice``, ``spinning``, ``copied``, ...); they map to
the simulator's technique names so the two label heads read them the same way. A "farm"
with no ticked technique counts as farm filler (the quality head); one marked ``copied`` or
``spinning`` also as unoriginal.
"""

from __future__ import annotations

import json
from pathlib import Path

from training.simulator import FarmPage

#: queue signal name -> simulator technique
SIGNAL_TO_TECHNIQUE = {
    "pasted_twice": "pasted_twice", "clickbait_tail": "clickbait_tail", "disclaimer": "disclaimer",
    "comment_form": "comment_form", "boilerplate": "disclaimer", "template_headings": "template_frame",
    "foreign_script": "paraphrase", "spinning": "spun", "copied": "copy",
}


class LabelError(ValueError):
    pass


def page_from_decision(rec: dict, line: int = 0) -> FarmPage:
    """One exported decision as a labelled page (raises :class:`LabelError` when malformed)."""
    if not isinstance(rec, dict) or not isinstance(rec.get("text"), str) or not rec["text"].strip():
        raise LabelError(f"line {line}: a decision needs a non-empty 'text'")
    if rec.get("label") not in ("farm", "clean"):
        raise LabelError(f"line {line}: 'label' must be 'farm' or 'clean', got {rec.get('label')!r}")
    pid = str(rec.get("id", f"label-{line}"))
    if rec["label"] == "clean":
        return FarmPage(f"moderated/{pid}", rec["text"], "moderated", None, (), "train",
                        hard_negative="moderator")
    techs = {SIGNAL_TO_TECHNIQUE[t] for t in rec.get("techniques") or [] if t in SIGNAL_TO_TECHNIQUE}
    if not techs:
        techs = {"disclaimer"}  # farm, technique unspecified: count it as filler
    # a farm page is scored under its own id, as every page in the wild is
    return FarmPage(f"moderated/{pid}", rec["text"], "moderated", f"moderated/{pid}#source",
                    tuple(sorted(techs)), "train")


def read_decisions(paths: list[Path]) -> list[FarmPage]:
    """Labelled pages from export files; a malformed line stops with its line number."""
    out: list[FarmPage] = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for n, raw in enumerate(fh, 1):
                if raw.strip():
                    try:
                        rec = json.loads(raw)
                    except json.JSONDecodeError as exc:
                        raise LabelError(f"{path}:{n}: malformed JSON ({exc})") from None
                    out.append(page_from_decision(rec, n))
    return out
