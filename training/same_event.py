"""Same-event evaluation sets from real news: follow-ups and precursors of one story.

BBC News 2004-05 and Reuters-21578 (1987) each follow stories day after day: a takeover
bid, a court case, a match and its aftermath. Two distinct articles on one event share
names, numbers and often a background paragraph, and neither is derived from the other:
exactly what the originality index must *not* call a source (issue 15).

How the set is built (all from ``../shared/data``, nothing simulated but the farm pages):

* **Links.** Two articles of one collection are on the same event when the weighted
  Jaccard overlap of their names and numbers (the index's own fact items and rarity
  weights) is at least :data:`MIN_LINK` and, for the dated Reuters wires, they are at most
  :data:`MAX_DAYS` apart. Candidate pairs come from an inverted list over the rarer items.
* **Events.** Connected components of the links; every article of an event is on its
  story. Events are split into ``dev`` and ``test`` by a hash of their first id, so no
  story is in both halves (the derivation model trains on ``dev`` only).
* **Indexed and queried members.** In each event, ordered by date then id, every other
  article is indexed and the rest are queried. A queried article is a *clean* same-event
  query when no indexed article of its event shares :data:`MAX_VERBATIM` or more of either
  text in runs of :data:`RUN_WORDS` words: it is another article on the event, not an
  update of one (those updated versions are left out, and counted).
* **Farm pages** of indexed articles: a plain copy (farm header and a "You may also like"
  tail), the body pasted twice, the article with a clickbait tail, spins of 20 % and 40 %
  of content words (``training.spinner``). The right source is the article itself, or an
  indexed *version* of it (sharing >= 50 % of either text verbatim), since among versions
  the earliest is the one to credit.
* **GPT rephrasings**: human-vs-chatgpt-news humans are split by title the same way and
  indexed beside the news; each GPT-3.5 rephrasing should name its human original.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np

#: Weighted Jaccard of names and numbers from which two articles are on one event.
MIN_LINK = 0.2
#: Dated wires further apart than this are different events, whatever they share.
MAX_DAYS = 14
#: Words per verbatim run, and the share of a text in shared runs that makes it a version.
RUN_WORDS = 8
MAX_VERBATIM = 0.3
VERSION_SHARE = 0.5
#: fact items rarer than this weight index the candidate pairs (common ones link everything)
_LINK_ITEM_WEIGHT = 2.0
_LINK_ITEM_MAX_POSTINGS = 60
KINDS = ("copy", "double", "tail", "spin20", "spin40")


@dataclass(slots=True)
class Story:
    id: str
    collection: str
    title: str
    text: str
    published: str | None


@dataclass
class EventSet:
    """One split's index pages and queries (see the module docstring)."""

    split: str
    index_pages: list[dict]
    clean: list[Story]  # same-event articles whose follow-ups/precursors are indexed
    farms: list[tuple[str, str, str, frozenset[str]]]  # (kind, text, made_from, right ids)
    gpt: list[tuple[str, str]]  # (text, human id)
    n_events: int = 0
    n_versions_left_out: int = 0
    stats: dict = field(default_factory=dict)


# ---- reading ---------------------------------------------------------------------------
def reuters_stories(min_words: int = 100) -> list[Story]:
    """Reuters-21578 bodies of ``min_words``+ words with their wire date (UTC assumed)."""
    from training.corpus import reuters_articles

    return [Story(a.id, "reuters", a.title, a.text, a.published)
            for a in reuters_articles(min_words=min_words)]


def bbc_stories() -> list[Story]:
    from training.corpus import bbc_articles

    return [Story(a.id, "bbc", a.title, a.text, None) for a in bbc_articles()]


# ---- links and events ------------------------------------------------------------------
def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def verbatim_share(a: str, b: str, n: int = RUN_WORDS) -> float:
    """Share of ``a``'s words inside runs of ``n`` words that ``b`` also has (checked on
    the texts themselves, independently of the index)."""
    wa, wb = _words(a), _words(b)
    if len(wa) < n:
        return 0.0
    grams = {tuple(wb[i:i + n]) for i in range(len(wb) - n + 1)}
    hit = np.zeros(len(wa), dtype=bool)
    for i in range(len(wa) - n + 1):
        if tuple(wa[i:i + n]) in grams:
            hit[i:i + n] = True
    return float(hit.mean())


def _facts(text: str) -> dict[int, float]:
    from features.document import Document
    from originality.fingerprints import fingerprint

    fp = fingerprint(Document.from_text(text), keep_positions=True)
    return dict(zip(fp.nnq.tolist(), fp.nnq_w.tolist()))


def _weighted_jaccard(a: dict[int, float], b: dict[int, float]) -> float:
    inter = sum(min(a[k], b[k]) for k in a.keys() & b.keys())
    union = sum(a.values()) + sum(b.values()) - inter
    return inter / union if union else 0.0


def _days(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.0
    return abs((datetime.fromisoformat(a) - datetime.fromisoformat(b)).total_seconds()) / 86400


def same_event_links(stories: list[Story]) -> list[tuple[int, int, float]]:
    """(i, j, overlap) of every pair of articles on one event (see the module docstring)."""
    facts = [_facts(s.text) for s in stories]
    inverted: dict[int, list[int]] = defaultdict(list)
    for i, f in enumerate(facts):
        for h, w in f.items():
            if w >= _LINK_ITEM_WEIGHT:
                inverted[h].append(i)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for ids in inverted.values():
        if len(ids) <= _LINK_ITEM_MAX_POSTINGS:
            for i, j in itertools.combinations(ids, 2):
                shared[i, j] += 1
    links = []
    for (i, j), k in shared.items():
        if k < 2 or _days(stories[i].published, stories[j].published) > MAX_DAYS:
            continue
        w = _weighted_jaccard(facts[i], facts[j])
        if w >= MIN_LINK:
            links.append((i, j, w))
    return links


def events(n: int, links: list[tuple[int, int, float]]) -> list[list[int]]:
    """Connected components (of two or more articles) of the links."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in links:
        parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return [g for g in groups.values() if len(g) > 1]


def split_of(key: str) -> str:
    """``dev`` or ``test`` by a stable hash of an event's (or a title's) key."""
    return "dev" if hashlib.blake2b(key.encode(), digest_size=4).digest()[0] % 2 == 0 else "test"


# ---- farm pages ------------------------------------------------------------------------
def farm_pages(story: Story, titles: list[str], rng: random.Random) -> list[tuple[str, str]]:
    """(kind, text) of every farm page of :data:`KINDS` made from ``story``."""
    from training.spinner import spin

    body = story.text.partition("\n\n")[2] or story.text
    tail = "\n".join(rng.sample(titles, 5))
    seed = int(hashlib.blake2b(story.id.encode(), digest_size=4).hexdigest(), 16)
    return [
        ("copy", f"Breaking | {story.title}\n\n{body}\n\nYou may also like\n\n"
                 + "\n".join(rng.sample(titles, 3))),
        ("double", f"{story.text}\n\n{body}"),
        ("tail", f"{story.text}\n\nYou may also like\n\n{tail}"),
        ("spin20", spin(story.text, 0.2, seed)),
        ("spin40", spin(story.text, 0.4, seed + 1)),
    ]


# ---- the set ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _collections() -> tuple[list[Story], list[list[int]]]:
    """Every story of both collections, and the events (as indexes into it)."""
    out: list[Story] = []
    evs: list[list[int]] = []
    for stories in (bbc_stories(), reuters_stories()):
        base = len(out)
        out += stories
        evs += [[base + i for i in ev] for ev in events(len(stories), same_event_links(stories))]
    return out, evs


def build(split: str, max_farm_sources: int = 400, seed: int = 15) -> EventSet:
    """The evaluation set of ``split`` (``dev`` or ``test``)."""
    from training.corpus import hvc_records

    stories, evs = _collections()
    rng = random.Random(seed)
    mine = [ev for ev in evs if split_of(min(stories[i].id for i in ev)) == split]
    indexed: list[int] = []
    clean: list[Story] = []
    versions_left_out = 0
    versions_of: dict[int, set[int]] = {}
    for ev in mine:
        order = sorted(ev, key=lambda i: (stories[i].published or "", stories[i].id))
        idx, qry = order[0::2], order[1::2]
        indexed += idx
        for i in idx:
            versions_of[i] = {i} | {j for j in idx if j != i and max(
                verbatim_share(stories[i].text, stories[j].text),
                verbatim_share(stories[j].text, stories[i].text)) >= VERSION_SHARE}
        for q in qry:
            reuse = max(max(verbatim_share(stories[q].text, stories[i].text),
                            verbatim_share(stories[i].text, stories[q].text)) for i in idx)
            if reuse >= MAX_VERBATIM:
                versions_left_out += 1
            else:
                clean.append(stories[q])
    pages = [{"id": stories[i].id, "text": stories[i].text, "published": stories[i].published}
             for i in indexed]
    # farm pages of indexed stories that have an indexed sibling (the hard case)
    titles = [s.title for s in stories if s.title]
    with_sibling = [i for ev in mine for i in sorted(ev, key=lambda i: (stories[i].published or "",
                                                                        stories[i].id))[0::2]
                    if len(ev) >= 3]
    rng.shuffle(with_sibling)
    farms = []
    for i in with_sibling[:max_farm_sources]:
        right = frozenset(stories[j].id for j in versions_of[i])
        for kind, text in farm_pages(stories[i], titles, rng):
            farms.append((kind, text, stories[i].id, right))
    human = hvc_records("human")
    gpt_rows = hvc_records("chatgpt")
    hid = {}
    for k, r in enumerate(human):
        if split_of("hvc:" + r["title_en"]) == split:
            hid[r["title_en"]] = f"hvc-human/{k}"
            pages.append({"id": f"hvc-human/{k}", "text": r["text"],
                          "published": r.get("date") or None})
    gpt = [(r["text"], hid[r["title_en"]]) for r in gpt_rows
           if r["source"].startswith("rephrase") and r["title_en"] in hid]
    return EventSet(split, pages, clean, farms, gpt, n_events=len(mine),
                    n_versions_left_out=versions_left_out,
                    stats={"indexed_news": len(indexed), "hvc_humans": len(hid)})
