"""Disclaimers and page boilerplate left inside the text: the chrome of farm platforms.

A content farm that scrapes or reposts articles leaves the host page's furniture in the
text it serves: a platform disclaimer ("This page may contain third-party content ... not
financial advice", "View Original"), the comment form ("Leave a Reply", "Your email address
will not be published"), share/subscribe prompts, photo credits, the uploader's handle on a
line of its own ("SN_Nour", "@someone"), spam link labels ("Secret Link") and legal or
navigation lines ("All rights reserved", "Skip to content"). An edited article has none of
these; each one is a line, so detection is line by line.

Two sources of patterns, one family per line (first match wins):

* hand-written patterns per family (:data:`FAMILY_PATTERNS`): ``lone`` patterns must be
  the whole line, ``cue`` patterns may sit anywhere in a short line, ``brief`` patterns
  anywhere in a line of a few words (menu-like lines);
* templates mined from real boilerplate of many sites (``models/boilerplate_templates.json``,
  written by ``python -m training.mine_boilerplate``): whole lines matched on a normalised
  key, and 3-6 word phrases matched inside short lines.

Only short lines are tested (boilerplate is a line, not an article paragraph), except that a
long line with ``min_long_cues`` distinct disclaimer cues is a platform disclaimer too.
Cost: per short line one anchored regex ``match`` plus a few substring tests (a cue's
regex runs only when its trigger word is in the line) and, for lines of a few words, a
dictionary lookup; per long line a few substring tests.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from features.base import Extraction, Span
from features.line_model import LineModel
from farmscore.config import models_dir

if TYPE_CHECKING:  # pragma: no cover
    from features.document import Document

FAMILIES: tuple[str, ...] = (
    "disclaimer", "comment_form", "share_subscribe", "spam_link", "photo_credit",
    "uploader_handle", "legal_nav", "other_boilerplate",
)

_SOCIAL = (r"(?:facebook|twitter|x|linkedin|instagram|pinterest|reddit|whatsapp|telegram|"
           r"e-?mail|print|youtube|tiktok|threads|bluesky|mastodon|flipboard|copy link|messenger)")
_ADVICE = r"(?:financial|investment|legal|medical|tax|professional|trading)"
#: Network names unambiguous enough to be a share/follow button on their own line.
_BRANDS = (r"(?:facebook|linkedin|instagram|pinterest|youtube|whatsapp|tiktok|telegram|"
           r"flipboard|bluesky|mastodon|twitter|reddit)")

#: Hand-written patterns over the lower-cased line. ``lone``: the whole line (trailing
#: punctuation allowed); ``cue``: anywhere in a short line; ``brief``: anywhere in a line of
#: at most ``max_brief_words`` words (menu-like lines: "Patient Login", "Your Privacy
#: Choices"), where the same words inside a sentence would be prose. Written as general
#: families of wording, not any page's exact string.
FAMILY_PATTERNS: dict[str, dict[str, tuple]] = {
    "disclaimer": {
        "lone": (
            r"view (?:the )?original(?: (?:article|post|story|source|content))?",
            r"(?:see |read )?(?:our |the )?(?:full )?(?:disclaimer|disclosure)s?",
            r"(?:advertis(?:ing|er)|affiliate|editorial|amazon associates?) disclos(?:ure|ures)",
            r"sponsored(?: post| content)?|paid (?:post|partnership|promotion)|partner content",
        ),
        "cue": (
            ("may contain", r"\bmay contain (?:third[- ]party|affiliate|sponsored|paid)\b"),
            ("purposes only", r"\bfor (?:general )?information(?:al)? purposes only\b"),
            ("advice", r"\b(?:not|nor) (?:(?:be |to be )?(?:intended|taken|construed|considered) )?"
                       r"(?:as )?(?:an? )?" + _ADVICE + r"(?:,? (?:or|and) " + _ADVICE
                       + r")? advice\b"),
            ("does not constitute", r"\bdoes not constitute (?:an? )?(?:offer|" + _ADVICE + r")"),
            ("disclaimer", r"\bsee (?:our |the )?disclaimer\b"),
            ("disclaimer", r"^disclaimer\s*:"),
            ("disclosure", r"^disclosure\s*:"),
            ("editorial note", r"^editorial note\s*:"),
            ("commission", r"\b(?:earn|receive|get) (?:a |an )?(?:small )?(?:affiliate )?"
                           r"commissions?\b"),
            ("affiliate link", r"\baffiliate links?\b"),
            ("endorsement", r"\bnot (?:be )?(?:considered|construed) as (?:an )?endorsement\b"),
        ),
        "brief": (),
    },
    "comment_form": {
        "lone": (
            r"(?:leave|post|add|write|submit) (?:a|your|the)? ?(?:reply|comment|response)s?",
            r"(?:\d+ )?(?:comments?|replies|responses)(?: \(\d+\))?",
            r"(?:view|show|hide|load|loading|read) (?:all |more )?(?:\d+ )?comments?",
            r"cancel reply|post comment|submit comment|reply",
            r"(?:name|e-?mail|website|comment)\s*\*",
            r"join the (?:discussion|conversation)",
        ),
        "cue": (
            ("will not be published", r"\byour email address will not be published\b"),
            ("required fields", r"\brequired fields are marked\b"),
            ("save my name", r"\bsave my name,? e-?mail\b"),
            ("notify me", r"\bnotify me of (?:follow-up comments|new (?:posts|comments))\b"),
            ("logged in to", r"\byou must be logged in to (?:post a comment|comment|reply)\b"),
            ("be the first", r"\bbe the first to (?:comment|reply)\b"),
            ("comments are closed", r"\bcomments are closed\b"),
            ("leave a", r"^leave a (?:reply|comment)\b"),
        ),
        "brief": (
            ("comment", r"^(?:view|show|hide|read|load|loading|see)\b.*\bcomments?\b"),
        ),
    },
    "share_subscribe": {
        "lone": (
            r"(?:share|tweet|pin)(?: (?:this|it|via|on|the))?(?: (?:article|story|post|page))?"
            r"(?: (?:on|via|with))?",
            # a row of two or more share buttons; one bare name ("X", "Print") is too vague
            r"(?:(?:share|post|follow) (?:on|via) )?" + _SOCIAL
            + r"(?:\s*[|/·•,]?\s*(?:(?:share|post|follow) (?:on|via) )?" + _SOCIAL + r")+",
            r"(?:share|post|follow) (?:on|via) " + _SOCIAL,
            _BRANDS + r"|follow",
            r"(?:follow|like|find|join) (?:us|me)(?: (?:on|at) .{1,40})?",
            r"subscribe(?: (?:now|here|today|for free|free))?",
            r"(?:get|join|our|weekly|daily|free|e-?mail) ?(?:the |our )?\w{0,20} ?newsletters?"
            r"(?: sign[- ]?up)?",
            r"newsletters?(?: sign[- ]?up| subscription)?",
            r"(?:sign up|register)(?: now| here| today)?",
        ),
        "cue": (
            ("subscribe", r"^subscribe (?:to|for|and|now|today)\b"),
            ("sign up", r"^sign up (?:for|to) (?:our|the|my|free|email|e-mail)\b"),
            ("sign up for", r"\bsign up for (?:our|the) (?:free |weekly |daily )?(?:\w+ )?"
                            r"(?:newsletter|e-?mails|alerts)\b"),
            ("our", r"\b(?:join|subscribe to) (?:our|my) (?:\w+ )?(?:newsletter|mailing list)\b"),
            ("enter your", r"^enter your e-?mail\b"),
            ("to ", r"^(?:click|tap) to (?:share|e-?mail|print|tweet)\b"),
            ("share", r"^share (?:this|on|via) "),
            ("inbox", r"\bstraight to your inbox\b"),
        ),
        "brief": (
            ("newsletter", r"\b(?:sign[- ]?up|subscribe|join|get|receive|our|weekly|daily|free|"
                           r"e-?mail)\b.*\bnewsletters?\b|\bnewsletters? (?:sign[- ]?up|"
                           r"subscriptions?)\b"),
            ("inbox", r"\b(?:to|in) your inbox\b"),
            ("sign", r"^sign[- ]?up\b"),
            ("subscribe", r"\bsubscribe\W*$"),
            ("on ", r"^(?:follow|subscribe|find) (?:us |me )?(?:on|at) " + _BRANDS),
        ),
    },
    "spam_link": {
        "lone": (
            r"(?:secret|hidden|source|original|external|affiliate|sponsored|special|exclusive|"
            r"private|direct|backup|download|mirror|magic|bonus|free|referral|partner) links?",
            r"(?:click|tap) here(?: (?:to|for) .{1,40})?",
            r"(?:https?://|www\.)\S+",
            r"(?:download|claim|get) (?:it )?(?:now|here|free)",
        ),
        "cue": (),
        "brief": (),
    },
    "photo_credit": {
        "lone": (
            r"(?:photo|photograph|image|picture|pic|illustration|graphic)s?(?: (?:credit|source))?"
            r"\s*(?:[:|–—]|by\b|courtesy\b).{1,80}",
            r"(?:photo|image|picture)s? courtesy(?: of)? .{1,60}",
            r"(?:credit|image credit|photo credit)s?\s*:.{1,80}",
        ),
        "cue": (
            ("getty", r"\bgetty (?:images|photos?|pictures|imagery)\s*\W*$"),
            ("getty", r"\bvia getty\b"),
            (("shutterstock", "istock", "alamy", "unsplash", "pexels", "pixabay", "depositphotos",
              "dreamstime"), r"\b(?:shutterstock|istockphoto|istock|alamy|unsplash|pexels|pixabay|"
                  r"depositphotos|dreamstime)(?:\.com)?\s*\W*$"),
            (("(photo", "(image", "(picture"), r"\((?:photo|image|picture)s?(?: credit)?:? (?:by|courtesy|credit)\b"),
            ("photo", r"\b(?:ap|afp|reuters|epa|pa|bloomberg) photo\b"),
            ("images", r"\b(?:ap|afp|reuters|epa|pa|bloomberg) images\b"),
        ),
        "brief": (),
    },
    "legal_nav": {
        "lone": (
            r"(?:privacy|cookie|cookies)(?: (?:policy|notice|statement|settings|preferences|"
            r"policy and terms))?",
            r"terms(?: (?:of (?:service|use)|(?:and|&) conditions))?",
            r"skip to (?:main )?(?:content|navigation|main)",
            r"(?:contact|about)(?: us)?|site ?map|accessibility(?: statement)?|back to top",
            r"(?:main )?menu|home|search|log ?in|sign ?in|log ?out|my account|copyright",
            r"jump to(?: content| navigation)?|table of contents|legal",
            r"(?:open|close|toggle|main|mobile|hamburger)? ?(?:navigation )?menu"
            r"(?: toggle| button| arrow| link)?|(?:open|close|toggle) (?:navigation|table of contents)"
            r"|post navigation|back to menu",
        ),
        "cue": (
            ("rights reserved", r"\ball rights reserved\b"),
            ("©", r"©"),
            (("(c)", "copyright"), r"^(?:\(c\)|copyright)\s*(?:\(c\)|©)?\s*(?:\d{4}|by\b)"),
            (("uses cookies", "use cookies"), r"\b(?:we|this (?:web)?site) uses? cookies\b"),
            ("cookies", r"\baccept (?:all )?cookies\b"),
            ("personal information", r"\bdo not sell (?:or share )?my personal information\b"),
        ),
        "brief": (
            ("privacy", r"\bprivacy (?:policy|policies|rights|choices|settings|preferences|"
                        r"notice|statement|information)\b"),
            ("cookie", r"\bcookies? (?:policy|policies|choices|settings|preferences|notice|"
                       r"statement)\b"),
            ("terms", r"\bterms (?:of (?:use|service)|(?:&|and|&amp;) conditions)\b"),
            ("login", r"\blogin\b"),
            (("log in", "sign in", "signin"), r"^(?:log|sign) ?in\b"),
            ("skip to", r"^skip to\b"),
        ),
    },
    "other_boilerplate": {
        "lone": (
            r"advertisements?|ad|sponsored by .{1,40}",
            r"(?:other |more |explore )?related(?: [\w&;,]+){0,4}|recommended(?: for you)?",
            r"(?:related|recommended|more|popular|trending|latest|recent) (?:articles|stories|"
            r"posts|news|reads|content|topics|videos)(?: for you)?",
            r"you (?:may|might) also (?:like|enjoy|be interested in)",
            r"(?:read|see) (?:also|more)|also read|continue reading|read (?:the )?full "
            r"(?:article|story)",
            r"most (?:read|popular|viewed|shared)|top stories|editor'?s picks?",
            r"(?:previous|next|prev) (?:post|article|story|page)|load(?:ing)? more|show more|loading",
        ),
        "cue": (
            (":", r"^(?:also read|read also|read more|see also|tags?|filed under|posted in|"
                  r"categories)\s*:"),
        ),
        "brief": (
            ("all", r"^(?:view|see|browse|show) all\b"),
            ("most", r"^most (?:read|popular|viewed|shared)\b"),
            (("trending", "popular", "latest"),
             r"^(?:trending|popular|latest) (?:\w+ )?(?:articles|stories|posts|news|topics|videos)\b"),
        ),
    },
}

#: A line that is one handle-shaped token: "@someone", "SN_Nour", "user_123", "nour2024".
#: Underscore tokens need a capital or a digit besides: lower-case snake_case ("task_id")
#: is a code identifier, not a person; dots are left out (file names, "project_v2.py").
_HANDLE_RE = re.compile(
    r"@[A-Za-z0-9_.]{2,30}"
    r"|(?=.*[a-z])(?=.*(?:[A-Z]|\d))[A-Za-z][A-Za-z0-9]{0,30}_[A-Za-z0-9_]{1,30}"
    r"|[A-Za-z]{3,20}_?\d{2,6}"
)
_LETTERS_RE = re.compile(r"[^\W\d_]+")
_TAIL = r"[\s\W]*"
#: No whole-line pattern can match a longer line with spaces (the longest, "Photo: <up to 80
#: characters>", stays under it), so longer lines skip the ``lone`` alternation.
_LONE_MAX_CHARS = 130

#: (trigger, family, pattern): the pattern runs only when its trigger is a substring of the
#: lower-cased line, so most lines cost a few ``in`` tests and no regex at all. A pattern
#: with several triggers appears once per trigger. Patterns anchored at the line start are
#: gathered into one alternation instead (one ``match`` call; see :func:`_compile_leads`).
Cue = tuple[str, str, re.Pattern[str]]


def _compile_lone() -> re.Pattern[str]:
    """All whole-line patterns as one anchored alternation, a named group per family."""
    parts = [f"(?P<{fam}>(?:{'|'.join(FAMILY_PATTERNS[fam]['lone'])}){_TAIL}$)"
             for fam in FAMILIES if FAMILY_PATTERNS.get(fam, {}).get("lone")]
    return re.compile("|".join(parts))


def _tier(tier: str, anchored: bool) -> list[tuple[tuple[str, ...], str, str]]:
    """(triggers, family, regex) of one tier, start-anchored ones or the others."""
    out = []
    for fam in FAMILIES:
        for trig, rx in FAMILY_PATTERNS.get(fam, {}).get(tier, ()):
            if rx.startswith("^") == anchored:
                out.append(((trig,) if isinstance(trig, str) else tuple(trig), fam, rx))
    return out


def _compile_cues(tier: str) -> tuple[Cue, ...]:
    """The unanchored patterns of a tier, one entry per trigger, in family order."""
    return tuple((t, fam, re.compile(rx)) for trig, fam, rx in _tier(tier, False) for t in trig)


def _compile_leads(tier: str) -> re.Pattern[str] | None:
    """The start-anchored patterns of a tier as one alternation, a named group per family."""
    by_fam: dict[str, list[str]] = {}
    for _, fam, rx in _tier(tier, True):
        by_fam.setdefault(fam, []).append(rx[1:])
    if not by_fam:
        return None
    return re.compile("|".join(f"(?P<{f}>{'|'.join(r)})" for f, r in by_fam.items()))


_LONE_RE = _compile_lone()
_CUES = _compile_cues("cue")
_CUE_LEAD_RE = _compile_leads("cue")
_BRIEF = _compile_cues("brief")
_BRIEF_LEAD_RE = _compile_leads("brief")
_LONG_CUES = tuple(c for c in _CUES if c[1] == "disclaimer")
#: The cues' triggers, in order: :func:`first_cue` tests them all in one ``map``.
_CUE_TRIGGERS = tuple(trig for trig, _, _ in _CUES)
_BRIEF_TRIGGERS = tuple(trig for trig, _, _ in _BRIEF)
_LONG_TRIGGERS = tuple(trig for trig, _, _ in _LONG_CUES)
_LONG_LEAD_RE = re.compile("|".join(rx[1:] for _, fam, rx in _tier("cue", True)
                                    if fam == "disclaimer"))


def first_cue(low: str, cues: tuple[Cue, ...], lead: re.Pattern[str] | None,
              triggers: tuple[str, ...] | None = None) -> tuple[str, str] | None:
    """(family, matched text) of the first start-anchored pattern matching ``low``, else of
    the first unanchored pattern whose trigger is in ``low`` and which matches.
    ``triggers``: the cues' triggers in order, when the caller has them at hand."""
    if lead is not None:
        m = lead.match(low)
        if m:
            return m.lastgroup or "other_boilerplate", m.group(0)
    # the trigger tests in one C-level pass (``compress`` keeps the cues' order)
    if triggers is None:
        triggers = tuple(trig for trig, _, _ in cues)
    for _, fam, rx in compress(cues, map(low.__contains__, triggers)):
        m = rx.search(low)
        if m:
            return fam, m.group(0)
    return None


def norm_key(text: str) -> str:
    """Lower-cased letters-only words joined by one space; the miner's key (keep in step)."""
    return " ".join(_LETTERS_RE.findall(text.lower()))


#: Families the line classifier's own evidence spans (and ``bp_ml_max_*``) are given for:
#: the farm furniture; ordinary chrome (share, credit, navigation) gets none.
_EVIDENCE_FAMILIES = ("disclaimer", "comment_form", "spam_link")


@lru_cache(maxsize=4)
def line_model(path: str | None = None) -> LineModel:
    """The shipped line classifier, one per process and path (its cache is shared)."""
    return LineModel(path)


@lru_cache(maxsize=4)
def load_templates(path: str | None = None) -> tuple[dict[str, str], dict[str, str], int]:
    """(whole-line key -> family, inner phrase -> family, longest phrase in words).

    Cached per path at module level; a missing file means hand patterns only.
    """
    p = Path(path) if path else models_dir() / "boilerplate_templates.json"
    if not p.exists():
        return {}, {}, 0
    data = json.loads(p.read_text(encoding="utf-8"))
    lines: dict[str, str] = {}
    phrases: dict[str, str] = {}
    for fam, body in data.get("families", {}).items():
        for k in body.get("lines", {}):
            lines.setdefault(k, fam)
        for k in body.get("phrases", {}):
            phrases.setdefault(k, fam)
    longest = max((len(k.split()) for k in phrases), default=0)
    return lines, phrases, longest


def match_phrase(words: list[str], phrases: dict[str, str], lo: int, hi: int,
                 first_words: frozenset[str] | None = None) -> tuple[str, str] | None:
    """The first (family, phrase) whose phrase is a run of ``words`` of length lo..hi,
    longest first, then leftmost. ``first_words`` (the phrases' first words, when given)
    skips runs that cannot match without changing which one is found first."""
    n = len(words)
    starts = range(n) if first_words is None else [i for i, w in enumerate(words) if w in first_words]
    if not starts:
        return None
    for size in range(min(hi, n), lo - 1, -1):
        for i in starts:
            if i + size > n:
                break
            key = " ".join(words[i:i + size])
            fam = phrases.get(key)
            if fam:
                return fam, key
    return None


@lru_cache(maxsize=4)
def phrase_first_words(path: str | None = None) -> frozenset[str]:
    """First words of the mined phrases of :func:`load_templates` (cached per path)."""
    return frozenset(k.split(" ", 1)[0] for k in load_templates(path)[1])


def is_handle(line: str, max_chars: int) -> bool:
    """A lone handle-shaped token (underscore, digits or @), not a word or a number."""
    return len(line) <= max_chars and " " not in line and _HANDLE_RE.fullmatch(line) is not None


class BoilerplateExtractor:
    """Counts and locates boilerplate lines per template family.

    Parameters
    ----------
    max_line_chars:
        Lines longer than this are article text, not boilerplate (except strong disclaimers).
    max_template_words:
        Mined whole-line and phrase templates are tried only on lines with at most this many
        words, so a phrase inside a real paragraph does not count.
    max_long_line_chars:
        Longest line tested for a multi-cue platform disclaimer.
    min_long_cues:
        Distinct disclaimer cues a long line needs (one cue in prose is not enough).
    max_handle_chars:
        Longest lone token taken as an uploader handle.
    max_brief_words:
        Longest line (in words) where menu-like wording ("Patient Login", "Get the
        newsletter") counts; in a longer sentence the same words are prose.
    templates_path:
        Mined templates JSON; ``None`` means ``models/boilerplate_templates.json``.
    """

    family: ClassVar[str] = "boilerplate"
    #: The learned line classifier's page summary (``features.line_model``): chrome lines,
    #: soft per-family counts, the strongest disclaimer / comment-form line, the trailing
    #: run of chrome (a tail, whatever its wording or marker) and chrome between article lines.
    ML_FEATURES: ClassVar[tuple[str, ...]] = (
        "bp_ml_chrome_lines", "bp_ml_chrome_frac",
        *(f"bp_ml_{f}" for f in FAMILIES),
        "bp_ml_max_disclaimer", "bp_ml_max_comment_form", "bp_ml_max_spam_link",
        "bp_ml_tail_lines", "bp_ml_tail_frac", "bp_ml_inner_chrome",
    )
    FEATURES: ClassVar[tuple[str, ...]] = (
        *(f"bp_{f}" for f in FAMILIES),
        "bp_lines", "bp_line_frac", "bp_char_frac", "bp_families", "bp_first_pos",
        "bp_repeated", *ML_FEATURES,
    )

    def __init__(self, max_line_chars: int = 200, max_template_words: int = 14,
                 max_long_line_chars: int = 1500, min_long_cues: int = 2,
                 max_handle_chars: int = 32, max_brief_words: int = 8,
                 templates_path: str | None = None, line_model_path: str | None = None,
                 chrome_threshold: float = 0.5, evidence_threshold: float = 0.7):
        self.max_line_chars = max_line_chars
        self.max_template_words = max_template_words
        self.max_long_line_chars = max_long_line_chars
        self.min_long_cues = min_long_cues
        self.max_handle_chars = max_handle_chars
        self.max_brief_words = max_brief_words
        self.templates_path = templates_path
        self.line_model_path = line_model_path
        self.chrome_threshold = chrome_threshold
        self.evidence_threshold = evidence_threshold

    # ---- one line -------------------------------------------------------------------------
    def classify_line(self, line: str) -> tuple[str, str] | None:
        """(family, detail) for a short line, or ``None`` when it is not boilerplate."""
        if is_handle(line, self.max_handle_chars):
            return "uploader_handle", "lone handle-shaped token"
        low = line.lower()
        m = _LONE_RE.match(low) if len(low) <= _LONE_MAX_CHARS or " " not in low else None
        if m:
            return m.lastgroup or "other_boilerplate", f"line {m.group(0).strip()[:60]!r}"
        hit = first_cue(low, _CUES, _CUE_LEAD_RE, _CUE_TRIGGERS)
        if hit is None and low[:1].isalpha() and low.count(" ") < self.max_brief_words:
            hit = first_cue(low, _BRIEF, _BRIEF_LEAD_RE, _BRIEF_TRIGGERS)
        if hit:
            return hit[0], f"pattern {hit[1].strip()[:60]!r}"
        lines, phrases, longest = load_templates(self.templates_path)
        if not lines or low.count(" ") >= self.max_template_words:
            return None
        words = _LETTERS_RE.findall(low)
        if not words or len(words) > self.max_template_words:
            return None
        fam = lines.get(" ".join(words))
        if fam:
            return fam, "mined line template"
        found = match_phrase(words, phrases, 3, longest, phrase_first_words(self.templates_path))
        if found:
            return found[0], f"mined phrase {found[1]!r}"
        return None

    def long_disclaimer(self, line: str) -> str | None:
        """Detail when a long line carries ``min_long_cues`` distinct disclaimer cues."""
        low = line.lower()
        armed = {rx for _, _, rx in compress(_LONG_CUES, map(low.__contains__, _LONG_TRIGGERS))}
        lead = _LONG_LEAD_RE.match(low)
        if len(armed) + (lead is not None) < self.min_long_cues:
            return None
        cues = {m.group(0).strip() for rx in armed if (m := rx.search(low))}
        if lead:
            cues.add(lead.group(0).strip())
        if len(cues) >= self.min_long_cues:
            return "cues " + ", ".join(sorted(repr(c) for c in cues))[:120]
        return None

    # ---- the page ---------------------------------------------------------------------------
    def extract(self, doc: "Document") -> Extraction:
        spans = self.find_spans(doc)
        feats = self.summarise(doc, spans)
        learned, extra = self.learned(doc, {sp.start for sp in spans})
        feats.update(learned)
        return Extraction(features=feats, evidence=sorted(spans + extra, key=lambda sp: sp.start))

    def learned(self, doc: "Document", covered: set[int]) -> tuple[dict[str, float], list[Span]]:
        """The line classifier's features, and a span for each line it calls a disclaimer,
        comment form or spam link (probability ``evidence_threshold``+) that no hand pattern
        or template already covers: boilerplate worded unlike any pattern we hold."""
        feats = dict.fromkeys(self.ML_FEATURES, 0.0)
        lines = doc.line_texts
        if not lines:
            return feats, []
        model = line_model(self.line_model_path)
        probs = model.predict(lines)
        classes = model.classes
        chrome = probs[:, 0] < self.chrome_threshold
        n = len(lines)
        feats["bp_ml_chrome_lines"] = float(chrome.sum())
        feats["bp_ml_chrome_frac"] = float(chrome.mean())
        col = {c: i for i, c in enumerate(classes)}
        for fam in FAMILIES:
            feats[f"bp_ml_{fam}"] = float(probs[chrome, col[fam]].sum())
        for fam in _EVIDENCE_FAMILIES:
            feats[f"bp_ml_max_{fam}"] = float(probs[:, col[fam]].max())
        tail = 0
        while tail < n and chrome[n - 1 - tail]:
            tail += 1
        total = max(1, sum(e - s for s, e in doc.lines))
        feats["bp_ml_tail_lines"] = float(tail)
        feats["bp_ml_tail_frac"] = sum(e - s for s, e in doc.lines[n - tail:]) / total if tail else 0.0
        art = np.flatnonzero(~chrome)
        if len(art) >= 2:
            feats["bp_ml_inner_chrome"] = float(chrome[art[0]:art[-1]].sum())
        spans = []
        for i in np.flatnonzero(chrome):
            s, e = doc.lines[i]
            if s in covered:
                continue
            k = int(np.argmax(probs[i, 1:])) + 1
            fam = classes[k]
            if fam in _EVIDENCE_FAMILIES and probs[i, k] >= self.evidence_threshold:
                spans.append(Span(fam, s, e, lines[i][:300], f"line model p={probs[i, k]:.2f}"))
        return feats, spans

    def find_spans(self, doc: "Document") -> list[Span]:
        """One span per boilerplate line, in text order, with offsets into ``doc.norm``."""
        spans: list[Span] = []
        for (s, e), text in zip(doc.lines, doc.line_texts):
            n = e - s
            if n <= self.max_line_chars:
                hit = self.classify_line(text)
                if hit:
                    spans.append(Span(hit[0], s, e, text, hit[1]))
            elif n <= self.max_long_line_chars:
                detail = self.long_disclaimer(text)
                if detail:
                    spans.append(Span("disclaimer", s, e, text, detail))
        return spans

    def summarise(self, doc: "Document", spans: list[Span]) -> dict[str, float]:
        """Per-family line counts and page-level shares (see ``FEATURES``)."""
        counts = dict.fromkeys(FAMILIES, 0)
        for sp in spans:
            counts[sp.signal] += 1
        n_lines = max(1, len(doc.lines))
        total_chars = max(1, sum(e - s for s, e in doc.lines))
        texts = [sp.text for sp in spans]
        feats = {f"bp_{f}": float(c) for f, c in counts.items()}
        feats.update(
            bp_lines=float(len(spans)),
            bp_line_frac=len(spans) / n_lines,
            bp_char_frac=sum(sp.end - sp.start for sp in spans) / total_chars,
            bp_families=float(sum(1 for c in counts.values() if c)),
            # where the chrome starts: 1.0 = none; small = boilerplate before the story ends
            bp_first_pos=spans[0].start / max(1, len(doc.norm)) if spans else 1.0,
            # the same boilerplate line twice: a page pasted with its chrome
            bp_repeated=float(len(texts) - len(set(texts))),
        )
        return feats
