"""Which of the matching pages a page is derived from: the ranking rule.

A page can match several indexed pages: its source, copies of its source, and older
stories on the same event that share names, numbers and a background paragraph. Naming
the *earliest* match (the rule before issue 15) hands a verbatim copy of story X to an
older story Y that matches it only weakly. The rule here:

1. **Strength of the derivation evidence first.** A candidate's strength is the largest of
   its method scores (:func:`originality.matching.method_scores`): word-shingle
   containment either way, immutable-shingle containment, fact containment. All three are
   shares in [0, 1] of the text one page takes from the other, so they compare across
   methods: a verbatim copy scores ~1.0 as a copy (and as a spin), a same-event story
   0.2-0.45 as a spin or a paraphrase.
2. **Publication order only among near-equal candidates.** Candidates within
   :data:`NEAR_EQUAL` of the strongest are "about equally derived": copies of one
   original, or a copy and the copy it was made from. Among them the earliest published
   (then the earliest added) is the source, because the copy of a copy is derived from
   the original too, and the original is the page to credit.
3. The other matches follow, strongest first, each with its method and similarity.

Why 0.1: between the source and a copy of it the strength differs only by the padding
either page adds around the shared text (a farm header, a tail, a second disclaimer) and
by the noise of a spinner: measured on farmed copies of copies of BBC and Reuters stories
(``python -m training.eval_provenance``) the gap is under 0.1 for every kind of copy we
make, while a same-event story that survives the derivation check sits far below a copy
(>= 0.4 under it) and a spin's true source sits >= 0.2 above the next candidate in 99 % of
cases. A wider margin would let an old, weakly related story win again; a narrower one
would split copies of copies by noise and name the later copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from originality.matching import Scores, method_scores

#: Candidates this close to the strongest one are ranked by publication order.
NEAR_EQUAL = 0.1

T = TypeVar("T")


def strength(s: Scores) -> float:
    """How strongly the page is derived from a candidate: its largest method score."""
    return max(method_scores(s).values())


def rank(items: Sequence[T], strength_of: Callable[[T], float],
         order_of: Callable[[T], tuple], margin: float = NEAR_EQUAL) -> list[T]:
    """``items`` with the source first (see the module docstring), then the rest.

    ``strength_of`` gives an item's derivation strength, ``order_of`` its publication
    order key (smaller is earlier). The near-equal group (strength within ``margin`` of
    the best) comes first in publication order; then the others, strongest first (ties
    in publication order).
    """
    if not items:
        return []
    best = max(strength_of(x) for x in items)
    near = [x for x in items if strength_of(x) >= best - margin]
    rest = [x for x in items if strength_of(x) < best - margin]
    near.sort(key=order_of)
    rest.sort(key=lambda x: (-strength_of(x), order_of(x)))
    return near + rest
