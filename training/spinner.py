"""A WordNet synonym spinner of our own: the positive class for the spinning detector.

Article spinners replace words by thesaurus synonyms to disguise copied text. This one
does the same with WordNet 3.0 (``/usr/share/wordnet``, Debian ``wordnet-base``), keeping
the text readable-ish: it replaces only content words, keeps inflection (plural, -s, -ed,
-ing), capitalisation and all punctuation, and prefers synonyms people actually use.

Usage::

    from training.spinner import Spinner, spin
    spin("The White House said trade talks resumed.", rate=0.4, seed=1)
    Spinner(senses=1, choice="frequent").fit().spin(text, rate=0.2, seed=7).text

``rate`` is the share of *content words* (words not in :data:`STOPWORDS`, at least three
letters, no digits) that are replaced; when fewer content words have a usable synonym,
all of those are replaced. The RNG is seeded, so the same (text, rate, seed) always gives
the same output.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from features.document import WORD_RE

WORDNET_DIR = Path("/usr/share/wordnet")

#: Function words a spinner leaves alone (closed classes, auxiliaries, pronouns).
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself
yourselves said says say also may might must shall us mr mrs ms one two three four five
six seven eight nine ten new year years
""".split())

_POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}


@dataclass
class _WordNet:
    """Just enough of WordNet: lemma -> synsets in sense order, synset -> lemmas."""

    index: dict[str, dict[str, list[str]]]        # pos -> lemma -> [offset, ...]
    lemmas: dict[tuple[str, str], list[str]]      # (pos, offset) -> lemma names
    exc_base: dict[str, dict[str, str]]           # pos -> inflected -> base
    exc_forms: dict[str, dict[str, list[str]]]    # pos -> base -> inflected forms


_WN: dict[str, _WordNet] = {}
_LOCK = threading.Lock()


def load_wordnet(root: Path = WORDNET_DIR) -> _WordNet:
    """Parse the WordNet database files once per process."""
    key = str(root)
    with _LOCK:
        if key in _WN:
            return _WN[key]
        if not (root / "index.noun").exists():
            raise FileNotFoundError(f"WordNet not found under {root}: apt-get install wordnet-base")
        index: dict[str, dict[str, list[str]]] = {}
        lemmas: dict[tuple[str, str], list[str]] = {}
        exc_base: dict[str, dict[str, str]] = {}
        exc_forms: dict[str, dict[str, list[str]]] = {}
        for pos, name in _POS_FILES.items():
            table: dict[str, list[str]] = {}
            with open(root / f"index.{name}", encoding="latin-1") as fh:
                for line in fh:
                    if line.startswith(" "):
                        continue
                    parts = line.split()
                    n_syn = int(parts[2])
                    table[parts[0]] = parts[-n_syn:]
            index[pos] = table
            with open(root / f"data.{name}", encoding="latin-1") as fh:
                for line in fh:
                    if line.startswith(" "):
                        continue
                    head = line.split(" ", 4 + 2 * 64)
                    wc = int(head[3], 16)
                    words = [re.sub(r"\(.*\)$", "", head[4 + 2 * i]) for i in range(wc)]
                    lemmas[(pos, head[0])] = words
            exc_path = root / f"{name}.exc"
            base: dict[str, str] = {}
            forms: dict[str, list[str]] = {}
            if exc_path.exists():
                for line in exc_path.read_text(encoding="latin-1").splitlines():
                    p = line.split()
                    if len(p) >= 2:
                        base.setdefault(p[0], p[1])
                        forms.setdefault(p[1], []).append(p[0])
            exc_base[pos], exc_forms[pos] = base, forms
        _WN[key] = _WordNet(index, lemmas, exc_base, exc_forms)
        return _WN[key]


# ---- morphology ------------------------------------------------------------------------
_RULES = {
    "n": [("ies", "y", "pl"), ("ches", "ch", "pl"), ("shes", "sh", "pl"), ("xes", "x", "pl"),
          ("ses", "s", "pl"), ("s", "", "pl")],
    "v": [("ies", "y", "3sg"), ("es", "e", "3sg"), ("es", "", "3sg"), ("s", "", "3sg"),
          ("ied", "y", "past"), ("ed", "e", "past"), ("ed", "", "past"),
          ("ing", "e", "ing"), ("ing", "", "ing")],
    "a": [],
    "r": [],
}


def analyse(word: str, wn: _WordNet) -> list[tuple[str, str, str]]:
    """(pos, lemma, slot) readings of a lower-case word form."""
    out = []
    for pos in ("n", "v", "a", "r"):
        idx = wn.index[pos]
        if word in idx:
            out.append((pos, word, "base"))
        b = wn.exc_base.get(pos, {}).get(word)
        if b and b in idx:
            slot = "pl" if pos == "n" else ("ing" if word.endswith("ing") else "past")
            out.append((pos, b, slot))
        for suf, rep, slot in _RULES[pos]:
            if word.endswith(suf) and len(word) > len(suf) + 1:
                lemma = word[: -len(suf)] + rep
                if lemma in idx and (pos, lemma, slot) not in out and lemma != word:
                    out.append((pos, lemma, slot))
                    break
    return out


def inflect(lemma: str, pos: str, slot: str, wn: _WordNet) -> str:
    """Put a lemma in the slot of the word it replaces (head word of phrases)."""
    if slot == "base":
        return lemma
    words = lemma.split(" ")
    h = len(words) - 1 if pos == "n" else 0
    w = words[h]
    irregular = wn.exc_forms.get(pos, {}).get(w, [])
    if slot == "pl":
        f = irregular[0] if irregular else _suffix_s(w)
    elif slot == "3sg":
        f = _suffix_s(w)
    elif slot == "past":
        f = irregular[0] if irregular else (w + "d" if w.endswith("e") else
                                            w[:-1] + "ied" if re.search(r"[^aeiou]y$", w)
                                            else w + "ed")
    else:
        f = (w[:-1] if w.endswith("e") and not w.endswith("ee") else w) + "ing"
    words[h] = f
    return " ".join(words)


def _suffix_s(w: str) -> str:
    if re.search(r"(s|x|z|ch|sh)$", w):
        return w + "es"
    if re.search(r"[^aeiou]y$", w):
        return w[:-1] + "ies"
    return w + "s"


def match_case(src: str, new: str) -> str:
    """Copy the capitalisation pattern of ``src`` onto ``new``."""
    if src.isupper() and len(src) > 1:
        return new.upper()
    if src[:1].isupper():
        return " ".join(w[:1].upper() + w[1:] for w in new.split(" ")) if src.istitle() \
            else new[:1].upper() + new[1:]
    return new


@lru_cache(maxsize=200_000)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


# ---- the spinner -----------------------------------------------------------------------
@dataclass(frozen=True)
class Replacement:
    start: int
    end: int
    old: str
    new: str


@dataclass(frozen=True)
class SpinResult:
    text: str
    replacements: tuple[Replacement, ...]
    n_content: int

    @property
    def rate(self) -> float:
        """Share of content words actually replaced."""
        return len(self.replacements) / self.n_content if self.n_content else 0.0


@dataclass
class Spinner:
    """WordNet synonym spinner; parameters choose which words and which synonyms.

    * ``senses``: how many senses (in WordNet frequency order) of each word to take
      synonyms from; 1 mimics careful spinners, larger values the sloppy ones.
    * ``choice``: ``"random"`` synonym, or the most ``"frequent"`` one (wordfreq).
    * ``min_zipf``: synonyms rarer than this Zipf frequency are never used (readability).
    * ``phrases``: allow multi-word synonyms ("look into" for "research").
    * ``capitalised``: also replace capitalised words (spinners do, breaking names).
    * ``wordnet_dir``: where the WordNet database lives.
    """

    senses: int = 3
    choice: str = "random"
    min_zipf: float = 2.5
    phrases: bool = False
    capitalised: bool = True
    wordnet_dir: Path = WORDNET_DIR
    _wn: _WordNet | None = field(default=None, init=False, repr=False)
    _cache: dict = field(default_factory=dict, init=False, repr=False)
    _fallback: bool = field(default=False, init=False, repr=False)

    def fit(self, texts=None) -> "Spinner":
        """Load WordNet (``texts`` is ignored; the scikit-learn-like name is for pipelines).

        Without the WordNet files (a machine without ``wordnet-base``) the spinner falls
        back to the synset synonyms compiled into ``models/spin_reference.npz``; ``senses``
        then has no effect.
        """
        root = Path(self.wordnet_dir)
        if (root / "index.noun").exists():
            self._wn = load_wordnet(root)
        else:
            self._fallback = True
        return self

    def transform(self, texts, rate: float = 0.2, seed: int = 0) -> list[str]:
        """Spin many texts; text ``i`` uses seed ``seed + i``."""
        return [self.spin(t, rate, seed + i).text for i, t in enumerate(texts)]

    def synonyms(self, word: str) -> list[tuple[str, str, str]]:
        """(synonym form, pos, slot) candidates for a lower-case word form, in fixed order."""
        got = self._cache.get(word)
        if got is not None:
            return got
        if self._wn is None and not self._fallback:
            self.fit()
        if self._fallback:
            got = self._cache[word] = self._reference_synonyms(word)
            return got
        wn = self._wn
        out: list[tuple[str, str, str]] = []
        seen = {word}
        for pos, lemma, slot in analyse(word, wn):
            for off in wn.index[pos].get(lemma, [])[: self.senses]:
                for cand in wn.lemmas.get((pos, off), []):
                    cand = cand.replace("_", " ")
                    if cand.lower() == lemma or (" " in cand and not self.phrases):
                        continue
                    if cand[:1].isupper() != lemma[:1].isupper():
                        continue  # "Chinese" the language is not a synonym of "chinese"
                    form = inflect(cand.lower(), pos, slot, wn)
                    if form in seen or "-" in form:
                        continue
                    if min(_zipf(x) for x in form.split(" ")) < self.min_zipf:
                        continue
                    seen.add(form)
                    out.append((form, pos, slot))
        self._cache[word] = out
        return out

    def _reference_synonyms(self, word: str) -> list[tuple[str, str, str]]:
        """Synset synonyms (already inflected) from the detector's reference file."""
        from features.spinning import load_reference

        ref = load_reference()
        wid = ref.vocab.get(word, -1)
        out = []
        for tid, strength in ref.syn.get(wid, ()):
            form = ref.words[tid]
            if strength != 1 or "-" in form or (" " in form and not self.phrases):
                continue
            if min(_zipf(x) for x in form.split(" ")) >= self.min_zipf:
                out.append((form, "?", "?"))
        return out

    def is_content(self, word: str) -> bool:
        return (len(word) >= 3 and word.isalpha() and word.lower() not in STOPWORDS
                and (self.capitalised or not word[:1].isupper()))

    def spin(self, text: str, rate: float = 0.2, seed: int = 0) -> SpinResult:
        """Replace ``round(rate * content words)`` words by synonyms (seeded)."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be in [0, 1], got {rate}")
        rng = random.Random(seed)
        matches = [m for m in WORD_RE.finditer(text) if self.is_content(m.group())]
        usable = [m for m in matches if self.synonyms(m.group().lower())]
        k = min(len(usable), round(rate * len(matches)))
        chosen = sorted(rng.sample(range(len(usable)), k))
        reps = []
        for j in chosen:
            m = usable[j]
            cands = self.synonyms(m.group().lower())
            if self.choice == "frequent":
                form = max(cands, key=lambda c: _zipf(c[0].split(" ")[-1]))[0]
            else:
                form = cands[rng.randrange(len(cands))][0]
            reps.append(Replacement(m.start(), m.end(), m.group(), match_case(m.group(), form)))
        out, pos = [], 0
        for r in reps:
            out.append(text[pos:r.start])
            out.append(r.new)
            pos = r.end
        out.append(text[pos:])
        return SpinResult("".join(out), tuple(reps), len(matches))


_DEFAULT: Spinner | None = None


def spin(text: str, rate: float = 0.2, seed: int = 0) -> str:
    """Spin ``text`` with the default :class:`Spinner` (see module docstring)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Spinner().fit()
    return _DEFAULT.spin(text, rate, seed).text
