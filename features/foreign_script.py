"""Foreign-script leftovers: words an English page should not contain.

A machine-translation round trip leaves names and words in the pivot language (seed 002
keeps a Vietnamese rendering of a Chinese name and the Vietnamese word for America). Two
kinds of leftovers are counted: letters of non-Latin scripts (Cyrillic, Han, Arabic, ...),
and Latin letters with stacked or rare diacritics (Unicode Latin Extended-B and Additional,
combining marks) that English and Western-European names do not use. Mixed-script words
(a Cyrillic "а" inside a Latin word) are homoglyph spam and counted apart.

Evidence joins a flagged word with the capitalised words around it, so a name is reported
whole.
"""

from __future__ import annotations

import unicodedata
from typing import ClassVar

from features.base import Extraction, Span
from features.document import WORD_RE, Document


def char_class(ch: str) -> str:
    """'ascii', 'latin' (Latin-1 / Extended-A: English and European names), 'latin_rare'
    (Extended-B, Extended Additional, combining marks), 'other' (a non-Latin script), or ''
    for non-letters."""
    o = ord(ch)
    if o < 128:
        return "ascii" if ch.isalpha() else ""
    if 0x0300 <= o <= 0x036F:
        return "latin_rare"
    if not ch.isalpha():
        return ""
    if o <= 0x017F:
        return "latin"
    if o <= 0x024F or 0x1E00 <= o <= 0x1EFF or 0x2C60 <= o <= 0x2C7F or 0xA720 <= o <= 0xA7FF:
        return "latin_rare"
    return "other"


def script_name(ch: str) -> str:
    """First word of the Unicode name: LATIN, CYRILLIC, CJK, ARABIC, HANGUL, ..."""
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]


def word_kind(word: str) -> str:
    """'', 'foreign' (rare Latin or another script), or 'mixed' (Latin and another script)."""
    classes = {char_class(c) for c in word} - {""}
    has_latin = bool(classes & {"ascii", "latin", "latin_rare"})
    if "other" in classes:
        return "mixed" if has_latin else "foreign"
    return "foreign" if "latin_rare" in classes else ""


class ForeignScriptExtractor:
    """Share and location of foreign-script words on an English page.

    Parameters
    ----------
    max_evidence: spans reported at most (a page in another language has thousands).
    """

    family: ClassVar[str] = "foreign_script"
    FEATURES: ClassVar[tuple[str, ...]] = (
        "fs_foreign_word_frac",
        "fs_foreign_runs",
        "fs_mixed_script_words",
        "fs_non_latin_letter_frac",
    )

    def __init__(self, max_evidence: int = 10):
        self.max_evidence = max_evidence

    def extract(self, doc: Document) -> Extraction:
        f = dict.fromkeys(self.FEATURES, 0.0)
        text = doc.norm
        if text.isascii():
            return Extraction(f)
        letters = other = 0
        for ch in text:
            if ch.isalpha():
                letters += 1
                if ord(ch) > 0x024F and char_class(ch) == "other":
                    other += 1
        f["fs_non_latin_letter_frac"] = other / max(1, letters)
        flagged: list[tuple[int, int, str, str]] = []  # start, end, kind, script
        matches = [m for m in WORD_RE.finditer(text)]
        for i, m in enumerate(matches):
            w = m.group()
            if w.isascii():
                continue
            kind = word_kind(w)
            if kind:
                odd = next(c for c in w if char_class(c) in ("latin_rare", "other"))
                flagged.append((i, i + 1, kind, script_name(odd)))
        n_words = max(1, len(matches))
        f["fs_foreign_word_frac"] = sum(1 for fl in flagged if fl[2] == "foreign") / n_words
        f["fs_mixed_script_words"] = float(sum(1 for fl in flagged if fl[2] == "mixed"))
        runs = self._runs(matches, flagged)
        f["fs_foreign_runs"] = float(len(runs))
        evidence = []
        for s, e, kind, script in runs[: self.max_evidence]:
            cs, ce = matches[s].start(), matches[e - 1].end()
            if kind == "mixed":
                detail = "mixed scripts in one word (homoglyphs)"
            elif script == "LATIN":
                detail = "Latin letters with diacritics English does not use (e.g. Vietnamese)"
            else:
                detail = f"{script.title()} script on an English page"
            evidence.append(Span("foreign_script", cs, ce, text[cs:ce], detail))
        return Extraction(f, evidence)

    @staticmethod
    def _runs(matches: list, flagged: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
        """Grow each flagged word over adjacent capitalised words; merge overlaps."""
        runs: list[tuple[int, int, str, str]] = []
        for s, e, kind, script in flagged:
            while s > 0 and matches[s - 1].group()[:1].isupper() and \
                    matches[s - 1].end() + 1 >= matches[s].start():
                s -= 1
            while e < len(matches) and matches[e].group()[:1].isupper() and \
                    matches[e - 1].end() + 1 >= matches[e].start():
                e += 1
            if runs and s <= runs[-1][1]:
                ps, pe, pk, pscr = runs[-1]
                runs[-1] = (ps, max(pe, e), pk, pscr)
            else:
                runs.append((s, e, kind, script))
        return runs
