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

import re
import unicodedata

import numpy as np
from typing import ClassVar

from features.base import Extraction, Span
from features.document import Document


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
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        high = np.flatnonzero(codes > 127)
        non_ascii = [text[i] for i in high.tolist()]
        letters = int(_ASCII_IS_LETTER[codes[codes < 128]].sum()) + sum(c.isalpha() for c in non_ascii)
        other = sum(char_class(c) == "other" for c in non_ascii)
        f["fs_non_latin_letter_frac"] = other / max(1, letters)
        flagged: list[tuple[int, int, str, str]] = []  # start, end (chars), kind, script
        for ws, we in non_ascii_words(text, high.tolist()):
            word = text[ws:we]
            kind = word_kind(word)
            if kind:
                odd = next(c for c in word if char_class(c) in ("latin_rare", "other"))
                flagged.append((ws, we, kind, script_name(odd)))
        f["fs_foreign_word_frac"] = sum(fl[2] == "foreign" for fl in flagged) / max(1, doc.n_words)
        f["fs_mixed_script_words"] = float(sum(fl[2] == "mixed" for fl in flagged))
        runs = self._runs(text, flagged)
        f["fs_foreign_runs"] = float(len(runs))
        evidence = []
        for cs, ce, kind, script in runs[: self.max_evidence]:
            if kind == "mixed":
                detail = "mixed scripts in one word (homoglyphs)"
            elif script in ("LATIN", "COMBINING"):
                detail = "Latin letters with diacritics English does not use (e.g. Vietnamese)"
            else:
                detail = f"{script.title()} script on an English page"
            evidence.append(Span("foreign_script", cs, ce, text[cs:ce], detail))
        return Extraction(f, evidence)

    @staticmethod
    def _runs(text: str, flagged: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
        """Grow each flagged word over adjacent capitalised words (a name is reported
        whole); merge overlapping runs."""
        runs: list[tuple[int, int, str, str]] = []
        for s, e, kind, script in flagged:
            while (m := _CAP_BEFORE_RE.search(text, max(0, s - 60), s)) is not None:
                s = m.start()
            while (m := _CAP_AFTER_RE.match(text, e)) is not None:
                e = m.end()
            if runs and s <= runs[-1][1]:
                ps, pe, pk, pscr = runs[-1]
                runs[-1] = (ps, max(pe, e), pk, pscr)
            else:
                runs.append((s, e, kind, script))
        return runs


_ASCII_IS_LETTER = np.array([chr(i).isalpha() for i in range(128)], dtype=bool)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or "\u0300" <= ch <= "\u036f"


def non_ascii_words(text: str, positions: list[int]) -> list[tuple[int, int]]:
    """(start, end) of every word holding a non-ASCII letter, given the positions of the
    non-ASCII characters (ascending); linear in the text."""
    out: list[tuple[int, int]] = []
    end = -1
    for p in positions:
        if p < end or not _is_word_char(text[p]) or text[p].isdigit():
            continue
        s, end = p, p + 1
        while s > 0 and _is_word_char(text[s - 1]):
            s -= 1
        while end < len(text) and _is_word_char(text[end]):
            end += 1
        out.append((s, end))
    return out
_CAP_BEFORE_RE = re.compile(r"(?<!\w)[^\W\d_]*[A-Z\u00c0-\u024f\u1e00-\u1eff][\w\u0300-\u036f]* \Z")
_CAP_AFTER_RE = re.compile(r" [A-Z\u00c0-\u024f\u1e00-\u1eff][\w\u0300-\u036f]*(?!\w)")
