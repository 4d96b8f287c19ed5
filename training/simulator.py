"""The content-farm simulator: labelled farm pages made from real original articles.

Every technique the seed pages show is a small pure function ``(text, rng, kit) -> text``;
a page applies one technique or a mixture. The *kit* holds the material a farm pads with
(clickbait headlines, link-list markers, disclaimers, comment forms, template headings), and
there are two kits with **disjoint** material: ``train`` and ``test``. Test farms are made
from held-out originals *and* with headlines, markers, disclaimers and frames the model
never saw, so the evaluation measures generalisation, not memory of our own templates.

Labels per page: the techniques applied, ``quality_bad`` (farm filler is on the page) and
``unoriginal`` (the page is a copy, spin or rewrite of another article). Hard negatives are
originals with legitimate endings (a one-line on-topic "Related:", a byline, a correction
notice) or a quote repeated in the story: they are labelled clean.

Techniques: ``pasted_twice`` (whole or partial, with small edits), ``spun`` (our WordNet
spinner at 10-40 %), ``paraphrase`` (sentence reordering, merging and dropping),
``gpt_rephrase`` (the real GPT-3.5 rephrasings of human-vs-chatgpt-news), ``clickbait_tail``
(with or without a marker), ``disclaimer``, ``comment_form``, ``template_frame`` (a generated
rewrite's heading frame), ``copy`` (a plain copy of an indexed page).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

#: Techniques that put filler on the page (quality) and that copy another article (originality).
FILLER = frozenset({"pasted_twice", "clickbait_tail", "disclaimer", "comment_form", "template_frame", "spun"})
COPYING = frozenset({"copy", "spun", "paraphrase", "rewrite", "gpt_rephrase"})
TECHNIQUES = ("pasted_twice", "spun", "paraphrase", "rewrite", "gpt_rephrase", "clickbait_tail", "disclaimer",
              "comment_form", "template_frame", "copy")


@dataclass(frozen=True)
class FarmPage:
    """One labelled page. ``source_id`` is the original it was made from (None for clean)."""

    id: str
    text: str
    collection: str
    source_id: str | None
    techniques: tuple[str, ...]
    split: str
    hard_negative: str = ""
    #: the material families the page was padded with ("tail:web", "disclaimer:ours", ...),
    #: the unit ``farmscore evaluate --leave-out`` holds out
    families: tuple[str, ...] = ()

    @property
    def quality_bad(self) -> int:
        return int(bool(FILLER.intersection(self.techniques)))

    @property
    def unoriginal(self) -> int:
        return int(bool(COPYING.intersection(self.techniques)))

    @property
    def query_id(self) -> str:
        """The id the page is scored under. A clean page and its hard-negative variant are the
        original itself (so it never matches itself in the index); a farm page is its own."""
        return self.id if self.source_id else self.id.split("#", 1)[0]

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "collection": self.collection,
                "source_id": self.source_id, "techniques": list(self.techniques),
                "split": self.split, "hard_negative": self.hard_negative,
                "families": list(self.families),
                "quality_bad": self.quality_bad, "unoriginal": self.unoriginal}


# ---- the padding material: two disjoint kits ----------------------------------------------
MARKERS = {
    "train": ["You may also like", "Related", "Read more", "Recommended", "Related Articles",
              "More stories", "You might also like", "Popular now", "Read next"],
    "test": ["Trending Now", "Don't Miss", "More From Our Network", "Recommended Stories",
             "Around the Web", "Editor's Picks", "Latest News", "Also Read", "Most Popular"],
}
DISCLAIMERS = {
    "train": [
        "This page may contain third-party content, which is provided for information purposes only "
        "(not representations/warranties) and should not be considered as an endorsement of its views, "
        "nor as financial or professional advice.",
        "Disclaimer: The information provided is not financial advice. Do your own research before "
        "making any investment decisions.",
        "View Original",
        "The views expressed in this article are those of the author and do not necessarily reflect "
        "the views of this platform.",
        "This article was automatically generated from a news feed and has not been edited by our staff.",
    ],
    "test": [
        "Disclaimer: This content is for informational purposes only and does not constitute "
        "investment, legal or tax advice.",
        "Source: original publisher. All content belongs to its respective owners.",
        "We may earn a commission from links on this page. This is not a recommendation to buy or sell.",
        "Read the original article",
        "Content provided by a third party; the platform is not responsible for its accuracy.",
    ],
}
COMMENT_FORMS = {
    "train": [
        ["Leave a Reply", "Your email address will not be published. Required fields are marked *",
         "Comment *", "Name *", "Email *", "Post Comment"],
        ["Add a comment", "Leave a Reply", "Cancel reply"],
        ["Share this:", "Facebook", "Twitter", "Like this:", "Related"],
    ],
    "test": [
        ["Leave a Comment", "You must be logged in to post a comment.", "Submit"],
        ["Comments", "Be the first to comment", "Save my name, email, and website in this browser "
         "for the next time I comment."],
        ["Share on Facebook", "Share on X", "Subscribe to our newsletter", "Sign up"],
    ],
}
FRAMES = {
    "train": ["Executive Summary", "The Story So Far", "Why This Matters", "Who Thinks What?",
              "Key Points", "Background", "What's Next"],
    "test": ["Key Takeaways", "The Big Picture", "Final Thoughts", "What It Means",
             "Frequently Asked Questions", "Bottom Line", "At a Glance"],
}
BYLINES = ["By {name}", "Reporting by {name}; Editing by {name2}", "Additional reporting by {name}",
           "{name} is a correspondent based in London.",
           "Correction: An earlier version of this article misstated a figure. It has been updated."]
NAMES = ["Anna Smith", "David Chen", "Maria Lopez", "James O'Brien", "Priya Patel", "Tom Baker"]


@dataclass
class Kit:
    """Padding material for one split; ``headlines`` are clickbait and off-topic news titles."""

    split: str
    headlines: list[str]
    markers: list[str] = field(default_factory=list)
    disclaimers: list[str] = field(default_factory=list)
    comment_forms: list[list[str]] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    #: sentences a rewrite borrows its wording from, grouped by their (names, numbers) slots
    carriers: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    #: real chrome of this split's side of the host split (``training.web_pages.chrome_material``):
    #: "ordinary" lines, "disclaimer" lines, "comment_form" runs, related-content "tails"
    web: dict[str, list] = field(default_factory=dict)
    #: per page: where the padding comes from ("ours" or "web"; "headlines" or "web" for tails)
    source: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, split: str, headlines: list[str], carrier_sentences: list[str] = (),
              web: dict[str, list] | None = None) -> "Kit":
        return cls(split, headlines, MARKERS[split], DISCLAIMERS[split], COMMENT_FORMS[split], FRAMES[split],
                   carrier_index(carrier_sentences), web or {})


# ---- text helpers ---------------------------------------------------------------------------
_SENT_RE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’]))\s+(?=[\"“A-Z0-9])")


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def sentences(par: str) -> list[str]:
    return [s for s in _SENT_RE.split(par) if s.strip()]


def join(pars: list[str], sep: str) -> str:
    return sep.join(pars)


# ---- techniques: (text, rng, kit) -> text ----------------------------------------------------
def paste_twice(text: str, rng: random.Random, kit: Kit) -> str:
    """The body again, whole or from a paragraph on, maybe lightly edited, maybe after a title."""
    pars = paragraphs(text)
    start = 0 if rng.random() < 0.5 else rng.randrange(1, max(2, len(pars) // 2 + 1))
    copy = pars[start:]
    if rng.random() < 0.4:  # drop a sentence here and there
        copy = [" ".join(s for s in sentences(p) if rng.random() > 0.1) or p for p in copy]
    middle = [pars[0]] if rng.random() < 0.3 else []
    sep = "\n\n" if rng.random() < 0.5 else "\n"
    return join(pars + middle + copy, sep)


def spin_text(text: str, rng: random.Random, kit: Kit) -> str:
    """Our WordNet spinner, or (``kit.source["spinner"]``) the distributional one, whose
    synonyms share nothing with the detector's WordNet reference."""
    if kit.source.get("spinner") == "distributional":
        from training.spinner_dist import spin
    else:
        from training.spinner import spin

    rate = float(kit.source.get("spin_rate", 0) or rng.choice(SPIN_RATES))
    return spin(text, rate=rate, seed=rng.randrange(1 << 30))


#: Shares of content words our spinner replaces.
SPIN_RATES = (0.1, 0.2, 0.3, 0.4)


def paraphrase(text: str, rng: random.Random, kit: Kit) -> str:
    """A crude sentence-level rewrite: reorder, merge and drop sentences, keep every fact
    that survives (what a rewrite keeps: names, numbers, quotes)."""
    out = []
    for p in paragraphs(text):
        ss = sentences(p)
        if len(ss) > 2 and rng.random() < 0.5:
            i = rng.randrange(len(ss) - 1)
            ss[i], ss[i + 1] = ss[i + 1], ss[i]
        if len(ss) > 1 and rng.random() < 0.4:
            i = rng.randrange(len(ss) - 1)
            a, b = ss[i].rstrip(". "), ss[i + 1]
            ss[i:i + 2] = [f"{a}, and {b[:1].lower() + b[1:]}" if b[:1].isupper() and not b.startswith(("I ", "\""))
                           else f"{a}; {b}"]
        ss = [s for s in ss if rng.random() > 0.1] or ss
        out.append(" ".join(ss))
    if len(out) > 3 and rng.random() < 0.5:
        i = rng.randrange(1, len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return join(out, "\n\n")


# ---- the fact-keeping rewrite ---------------------------------------------------------
# What a rewriter (a person, or an LLM asked to "rephrase") does to a news story: every
# sentence is said in other words, but the names, the numbers and the quoted speech stay,
# in the source's order. We cannot write new English offline, so each sentence borrows the
# wording of a real news sentence from another collection (MRPC, never indexed) with as
# many name and number slots, and the source's facts fill the slots; quotes are kept
# verbatim with a reporting frame. The result shares its source's facts and almost none of
# its word shingles, which is what real rewrites look like to the index (seeds 002-004,
# the GPT rephrasings), unlike reordering, which keeps 99 % of the wording.
_TOKEN_RE = re.compile(r"\S+")
_QUOTED_RE = re.compile(r"[\"“]([^\"“”]{12,400})[\"”]")
_NOT_NAMES = frozenset("""I Mr Mrs Ms Dr Monday Tuesday Wednesday Thursday Friday Saturday Sunday January
February March April May June July August September October November December The A An
He She It They We But And In On At For If As This That""".split())
MAX_NAMES, MAX_NUMBERS = 4, 3
QUOTE_FRAMES = ('"{q}," {who} said.', '{Who} said: "{q}."', 'According to {who}, "{q}."',
                '"{q}," {who} added.', '{Who} told reporters: "{q}."')


def _slot_kind(tok: str, first: bool) -> str | None:
    """"name", "number" or None for one whitespace token of a sentence."""
    core = tok.strip(",.;:()'’!?")
    if any(ch.isdigit() for ch in core):
        return "number"
    word = re.sub(r"['’]s$", "", core).replace("-", "").replace("'", "")
    if not first and core[:1].isupper() and word.isalpha() and word not in _NOT_NAMES:
        return "name"
    return None


def sentence_slots(sentence: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the name runs and numbers of a sentence (quotes excluded)."""
    out: list[tuple[int, int, str]] = []
    for k, m in enumerate(_TOKEN_RE.finditer(sentence)):
        kind = _slot_kind(m.group(), k == 0)
        if kind is None:
            continue
        core = m.group().strip(",.;:()'’!?")
        start = m.start() + m.group().index(core)
        if out and kind == "name" and out[-1][2] == "name" and sentence[out[-1][1]:start] == " ":
            out[-1] = (out[-1][0], start + len(core), "name")  # "Scott Bessent" is one slot
        else:
            out.append((start, start + len(core), kind))
    return out


def carrier_index(sentences: list[str]) -> dict[tuple[int, int], list[str]]:
    """Carrier sentences (no quotes, 8-40 words) by their (names, numbers) slot counts.

    A sentence that starts with a name ("Wagner said ...") is left out: the first word's
    slot cannot be told from an ordinary capitalised word, and an unfilled name would be a
    fact of another story."""
    lower_vocab = {w for s in sentences for w in s.split()[1:] if w.islower()}
    out: dict[tuple[int, int], list[str]] = {}
    for s in sentences:
        words = s.split()
        if '"' in s or "“" in s or not 8 <= len(words) <= 40 or words[0].lower() not in lower_vocab:
            continue
        slots = sentence_slots(s)
        key = (sum(k == "name" for *_, k in slots), sum(k == "number" for *_, k in slots))
        if key[0] <= MAX_NAMES and key[1] <= MAX_NUMBERS:
            out.setdefault(key, []).append(s)
    return out


def _pick_carrier(kit: Kit, names: int, numbers: int, rng: random.Random) -> str | None:
    """A carrier with exactly as many slots as the facts to place, else the nearest with fewer."""
    want = (min(names, MAX_NAMES), min(numbers, MAX_NUMBERS))
    keys = sorted((k for k in kit.carriers if k[0] <= want[0] and k[1] <= want[1]),
                  key=lambda k: (want[0] - k[0]) + (want[1] - k[1]))
    return rng.choice(kit.carriers[keys[0]]) if keys else None


def _fill(carrier: str, names: list[str], numbers: list[str], rng: random.Random,
          own: float = 0.0, own_numbers: float | None = None) -> str:
    """The carrier with its name and number slots replaced, in order, by the given facts;
    with probability ``own`` a slot keeps the carrier's fact (a rewriter adds context), or
    ``own_numbers`` for a number slot when given."""
    out, pos, ni, di = [], 0, 0, 0
    for a, b, kind in sentence_slots(carrier):
        out.append(carrier[pos:a])
        if rng.random() < (own if kind == "name" or own_numbers is None else own_numbers):
            out.append(carrier[a:b])
        elif kind == "name" and names:
            out.append(names[ni % len(names)])
            ni += 1
        elif kind == "number" and numbers:
            out.append(numbers[di % len(numbers)])
            di += 1
        else:
            out.append(carrier[a:b])
        pos = b
    return "".join(out) + carrier[pos:]


def rewrite_sentence(sentence: str, rng: random.Random, kit: Kit, own: float = 0.0,
                     quote_keep: float = 0.85, loose: bool = False) -> list[str]:
    """One source sentence said again: its facts in borrowed wording; each quote verbatim
    with probability ``quote_keep``, else left out (reported without quoting: its names
    and numbers stay in the rewritten sentence, its words go). ``loose``: names drift and
    borrowed facts replace names only: a translation or a summary keeps every number."""
    quotes = [q.strip() for q in _QUOTED_RE.findall(sentence) if len(q.split()) >= 3]
    plain = _QUOTED_RE.sub(" ", sentence)
    slots = sentence_slots(plain)
    names = [plain[a:b] for a, b, k in slots if k == "name"]
    if loose:
        names = [drift_name(n, rng) for n in names]
    numbers = [plain[a:b] for a, b, k in slots if k == "number"]
    out: list[str] = []
    if names or numbers or not quotes:
        carrier = _pick_carrier(kit, len(names), len(numbers), rng)
        if carrier and (names or numbers or rng.random() < 0.5):
            out.append(_fill(carrier, names, numbers, rng, own, 0.0 if loose else None))
    who = names[0] if names else rng.choice(["officials", "a spokesperson", "the minister"])
    for q in quotes:
        if rng.random() < quote_keep:
            frame = rng.choice(QUOTE_FRAMES)
            out.append(frame.format(q=q.rstrip(",."), who=who, Who=who[:1].upper() + who[1:]))
    return out


def quote_whole_sentences(par: str) -> list[str]:
    """:func:`sentences`, but a quotation that runs over several sentences stays in one."""
    out: list[str] = []
    for s in sentences(par):
        if out and (out[-1].count('"') % 2 or out[-1].count("“") > out[-1].count("”")):
            out[-1] += " " + s
        else:
            out.append(s)
    return out


#: Share of rewrites that are *loose*: no sentence survives word for word and the facts
#: themselves drift, as in a translation round trip or a free summary ("Scott Bessent" becomes "Bessent", a name comes back transliterated,
#: a quote is reported in other words). Their fact overlap with the source falls to where
#: follow-up stories on the same events sit, so the other evidence on the page has to tell.
LOOSE_REWRITE_SHARE = 0.4


def drift_name(name: str, rng: random.Random) -> str:
    """A name as a loose rewrite may give it: the surname alone, the initials of an
    organisation, or unchanged."""
    parts = name.split()
    if len(parts) > 1 and rng.random() < 0.6:
        if all(p[:1].isupper() for p in parts) and rng.random() < 0.3:
            return "".join(p[0] for p in parts)
        return parts[-1]
    return name


def rewrite(text: str, rng: random.Random, kit: Kit) -> str:
    """Every sentence rewritten around its facts. Per page, drawn at random: the share of
    sentences kept word for word (0-30 %), left out (a rewrite that summarises, 0-60 %),
    of slots that keep the borrowed sentence's own fact (0-25 %), and of quotes kept
    verbatim (30-100 %; the others are reported in other words, as generated rewrites do).
    A loose rewrite (``LOOSE_REWRITE_SHARE``) keeps no sentence word for word and fewer facts
    as they were: more borrowed names (25-60 %; its numbers stay the source's), fewer
    verbatim quotes (0-50 %), and names shortened (:func:`drift_name`)."""
    keep, drop, own = rng.uniform(0.0, 0.3), rng.uniform(0.0, 0.6), rng.uniform(0.0, 0.25)
    quote_keep = rng.uniform(0.3, 1.0)
    loose = rng.random() < LOOSE_REWRITE_SHARE
    if loose:
        keep, own, quote_keep = 0.0, rng.uniform(0.25, 0.6), rng.uniform(0.0, 0.5)
    pars = paragraphs(text)
    title, body = pars[0], pars[1:] or pars
    out_sents: list[str] = []
    for p in body:
        for s in quote_whole_sentences(p):
            r = rng.random()
            if r < drop:
                continue
            out_sents += [s] if r < drop + keep else rewrite_sentence(s, rng, kit, own, quote_keep,
                                                                      loose)
    if not out_sents:
        return text
    pars_out, i = [], 0
    while i < len(out_sents):
        n = rng.randint(1, 3)
        pars_out.append(" ".join(out_sents[i:i + n]))
        i += n
    head = [title] if rng.random() < 0.5 else []
    return join(head + pars_out, "\n\n")


def add_tail(text: str, rng: random.Random, kit: Kit) -> str:
    if kit.source.get("clickbait_tail") == "web":
        block = rng.choice(kit.web["tails"])
        heads = block[:rng.randint(3, len(block))]
    else:
        heads = rng.sample(kit.headlines, rng.randint(3, 7))
    marker = [rng.choice(kit.markers)] if kit.source.get("tail_marker", "yes") == "yes" else []
    sep = "\n\n" if rng.random() < 0.5 else "\n"
    return text.rstrip() + sep + join(marker + heads, sep) + "\n"


def add_disclaimer(text: str, rng: random.Random, kit: Kit) -> str:
    pool = kit.web["disclaimer"] if kit.source.get("disclaimer") == "web" else kit.disclaimers
    lines = rng.sample(pool, rng.randint(1, 2))
    pars = paragraphs(text)
    if rng.random() < 0.5:
        return join(pars + lines, "\n")
    return join(lines + pars, "\n")


def add_comment_form(text: str, rng: random.Random, kit: Kit) -> str:
    form = rng.choice(kit.web["comment_form"] if kit.source.get("comment_form") == "web" else kit.comment_forms)
    return text.rstrip() + "\n\n" + join(form, "\n\n" if rng.random() < 0.5 else "\n") + "\n"


def add_template_frame(text: str, rng: random.Random, kit: Kit) -> str:
    """A generated rewrite's frame: summary headings with bullets drawn from the story."""
    pars = paragraphs(text)
    title, body = pars[0], pars[1:]
    sents = [s for p in body for s in sentences(p)]
    heads = rng.sample(kit.frames, min(len(kit.frames), rng.randint(3, 4)))
    frame = []
    for h in heads:
        frame.append(h)
        for s in rng.sample(sents, min(len(sents), rng.randint(1, 2))):
            frame.append(("  • " if rng.random() < 0.5 else "") + s)
    return join([title] + frame + body, "\n\n")


def copy_text(text: str, rng: random.Random, kit: Kit) -> str:
    return text


TECHNIQUE_FUNCS: dict[str, Callable[[str, random.Random, Kit], str]] = {
    "pasted_twice": paste_twice, "spun": spin_text, "paraphrase": paraphrase, "rewrite": rewrite,
    "clickbait_tail": add_tail, "disclaimer": add_disclaimer, "comment_form": add_comment_form,
    "template_frame": add_template_frame, "copy": copy_text,
}
#: The order techniques are applied in: rewriting first, padding last (as farms do).
ORDER = ("copy", "rewrite", "paraphrase", "spun", "template_frame", "pasted_twice", "disclaimer",
         "clickbait_tail", "comment_form")


# ---- hard negatives ---------------------------------------------------------------------------
def legit_ending(text: str, rng: random.Random, related_title: str) -> tuple[str, str]:
    kind = rng.choice(["related", "byline", "correction", "quote"])
    if kind == "related":
        return text.rstrip() + f"\n\nRelated: {related_title}\n", kind
    if kind == "byline":
        line = rng.choice(BYLINES[:4]).format(name=rng.choice(NAMES), name2=rng.choice(NAMES))
        return text.rstrip() + "\n\n" + line + "\n", kind
    if kind == "correction":
        return text.rstrip() + "\n\n" + BYLINES[4] + "\n", kind
    quotes = re.findall(r"\"[^\"]{30,200}\"", text)
    if not quotes:
        return text.rstrip() + "\n\n" + f"By {rng.choice(NAMES)}\n", "byline"
    q = rng.choice(quotes)
    pars = paragraphs(text)
    pars.insert(len(pars) - 1 if len(pars) > 2 else len(pars), f"As one of them put it: {q}")
    return join(pars, "\n\n"), kind


#: Share of originals that also appear with a few lines of ordinary site chrome (a share
#: bar, a photo credit, a navigation or legal line) around them, labelled clean. (Data set
#: 12 gave farm pages such lines at the same rate too; see ``training.dataset``, version 13.)
CHROME_PROB = 0.5


def with_chrome(text: str, rng: random.Random, kit: Kit) -> str:
    """The article with 1-3 real chrome lines of ordinary sites before and/or after it.

    Why: real pages carry navigation, share bars and credits, and a page that does is not a
    farm. Without these, every clean training page was chrome-free, and the model read any
    one such line as "farm" (model 1.8.0 flipped 200 of 200 clean BBC articles with one
    "Share this article" line)."""
    lines = rng.sample(kit.web["ordinary"], rng.randint(1, 3))
    cut = rng.randint(0, len(lines))
    before, after = lines[:cut], lines[cut:]
    sep = "\n\n" if rng.random() < 0.5 else "\n"
    return join(before + [text.strip()] + after, sep)


#: Share of originals that also appear as a *brief*: a clean page that is short.
BRIEF_PROB = 0.3


def brief(text: str, rng: random.Random) -> str:
    """The article's opening, 25-150 words (whole sentences, the title half the time), as a
    news brief, a feed excerpt or a short wire item shows it.

    Why: every clean original in the training data is a full article of 100+ words, while
    farms that summarise are short, so without these a model learns "short means copied"
    (model 1.6.0 called 99 % of BBC openings of 60 words "farm"). Crawlers see many short
    pages that are nobody's copy."""
    pars = paragraphs(text)
    title, body = (pars[0], pars[1:]) if len(pars) > 1 else ("", pars)
    target = rng.randint(25, 150)
    out: list[str] = []
    n = 0
    for s in (s for p in body for s in sentences(p)):
        if out and n + len(s.split()) > target:
            break
        out.append(s)
        n += len(s.split())
    head = [title] if title and rng.random() < 0.5 else []
    return join(head + [" ".join(out)], "\n\n")


# ---- the simulator --------------------------------------------------------------------------
def stable_rng(*parts: str) -> random.Random:
    return random.Random(int(hashlib.sha1("|".join(parts).encode()).hexdigest()[:12], 16))


@dataclass
class Simulator:
    """Makes labelled pages from originals.

    Parameters: ``farms_per_original`` farm pages per original; ``mix_prob`` the chance of a
    second technique (and ``mix_prob ** 2`` of a third); ``hard_negative_prob`` the chance of
    a legitimate-ending variant beside each clean original (and ``BRIEF_PROB`` of its
    opening alone, :func:`brief`).
    """

    farms_per_original: int = 3
    mix_prob: float = 0.35
    hard_negative_prob: float = 0.5

    def pages(self, originals: list, split: str, kit: Kit, indexed: Callable[[str], bool]) -> Iterator[FarmPage]:
        """Clean originals, hard negatives and farm pages for ``originals`` (Article objects).

        Pages made from an original that is not in the index use only techniques that show on
        the page itself (spinning and padding): a plain copy of an unknown page is, to anyone,
        an original.
        """
        for a in originals:
            rng = stable_rng("sim", a.id)
            yield FarmPage(a.id, a.text, a.source, None, (), split)
            if rng.random() < self.hard_negative_prob:
                other = originals[rng.randrange(len(originals))]
                text, kind = legit_ending(a.text, rng, other.title if other.category == a.category else a.title)
                yield FarmPage(f"{a.id}#clean-{kind}", text, a.source, None, (), split, hard_negative=kind)
            crng = stable_rng("chrome", a.id)
            if kit.web.get("ordinary") and crng.random() < CHROME_PROB:
                yield FarmPage(f"{a.id}#clean-chrome", with_chrome(a.text, crng, kit), a.source, None, (),
                               split, hard_negative="chrome")
            brng = stable_rng("brief", a.id)  # its own stream: the other pages stay as they were
            if brng.random() < BRIEF_PROB:
                yield FarmPage(f"{a.id}#clean-brief", brief(a.text, brng), a.source, None, (), split,
                               hard_negative="brief")
            known = indexed(a.id)
            for k in range(self.farms_per_original):
                techs = self.choose(rng, known)
                page_kit, fams = self.materials(stable_rng("materials", a.id, str(k)), kit, techs)
                text = a.text
                for t in ORDER:
                    if t in techs:
                        text = TECHNIQUE_FUNCS[t](text, rng, page_kit)
                yield FarmPage(f"{a.id}#farm{k}", text, a.source, a.id, tuple(sorted(techs)), split,
                               families=fams)

    @staticmethod
    def materials(rng: random.Random, kit: Kit, techs: set[str]) -> tuple[Kit, tuple[str, ...]]:
        """Where this page's padding comes from (our lists or real sites' chrome, a tail with
        or without a marker), and the families that names. Real chrome is used for half of
        the pages when the kit has it."""
        from dataclasses import replace

        web = kit.web
        source = {
            "clickbait_tail": "web" if web.get("tails") and rng.random() < 0.5 else "headlines",
            "tail_marker": "yes" if rng.random() < 0.6 else "no",
            "disclaimer": "web" if web.get("disclaimer") and rng.random() < 0.5 else "ours",
            "comment_form": "web" if web.get("comment_form") and rng.random() < 0.5 else "ours",
            "spin_rate": str(rng.choice(SPIN_RATES)),
            # training kits spin with the distributional spinner rarely (the shipped model never
            # trains on those pages: training.train.HELD_OUT_FAMILIES), test kits half the time
            "spinner": "distributional" if rng.random() < (0.5 if kit.split == "test" else 0.3) else "wordnet",
        }
        fams = []
        if "clickbait_tail" in techs:
            fams += [f"clickbait_tail:{source['clickbait_tail']}",
                     "tail:marker" if source["tail_marker"] == "yes" else "tail:no_marker"]
        for t in ("disclaimer", "comment_form"):
            if t in techs:
                fams.append(f"{t}:{source[t]}")
        for t in ("pasted_twice", "template_frame"):
            if t in techs:
                fams.append(t)
        if "spun" in techs:
            fams += [f"spun:{round(float(source['spin_rate']) * 100)}", f"spinner:{source['spinner']}"]
        return replace(kit, source=source), tuple(fams)

    def choose(self, rng: random.Random, source_known: bool) -> set[str]:
        padding = ["pasted_twice", "clickbait_tail", "disclaimer", "comment_form", "template_frame"]
        # a rewrite is what real farms mostly do to a known source, so it is drawn twice as often
        rewording = ["copy", "paraphrase", "rewrite", "rewrite", "spun"] if source_known else ["spun", "spun"]
        techs = {rng.choice(rewording + padding)}
        if rng.random() < self.mix_prob:
            techs.add(rng.choice(padding))
            if rng.random() < self.mix_prob:
                techs.add(rng.choice(padding))
        if source_known and techs.isdisjoint({"paraphrase", "rewrite", "spun"}):
            techs.add("copy")  # padded or not, the text is the indexed page's own
        # an unknown source with padding alone stays "original": nothing could tell otherwise
        return techs

    def gpt_pages(self, records: list[dict], human_ids: dict[str, str], split_of: Callable[[str], str],
                  split: str) -> Iterator[FarmPage]:
        """The real GPT-3.5 rephrasings of human-vs-chatgpt-news, as ``gpt_rephrase`` pages
        (their human originals are indexed); ``generated_*`` rows only share a title with a
        human article, so they are clean *original* pages (machine-written, but no copy)."""
        for i, r in enumerate(records):
            title = r.get("title_en", "")
            if split_of(title) != split or not r.get("text", "").strip():
                continue
            kind = str(r.get("source", ""))
            text = f"{title}\n\n{r['text']}"
            if kind.startswith("rephrase") and title in human_ids:
                yield FarmPage(f"hvc-gpt/{i}", text, "hvc", human_ids[title], ("gpt_rephrase",), split)
            elif kind.startswith("generated"):
                yield FarmPage(f"hvc-gen/{i}", text, "hvc", None, (), split, hard_negative="generated")
