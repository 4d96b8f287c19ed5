"""Input validation and the shared, once-per-page view of a text.

Every extractor reads the same :class:`Document`, so tokenising, line splitting and
normalising happen once. Hostile input is handled here, in one place:

* bytes must decode (UTF-8 by default); otherwise :class:`InputError` says where it failed;
* empty or whitespace-only text, text over ``max_chars`` and binary content are refused
  with an :class:`InputError` naming the reason (a crawler can log it and move on);
* invisible format characters (zero-width spaces and joiners, bidi overrides, BOM: Unicode
  category Cf) are removed for analysis, because spammers use them to break up words, and
  C0 control characters become spaces. Offsets in ``norm`` are mapped back to ``text`` by
  :meth:`Document.to_original`, so evidence always points into the caller's string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from features.base import DEFAULT_MAX_CHARS  # noqa: F401 - re-exported; defined there
from features.word_table import CLASSES, LOWER, word_table


WORD_RE = re.compile(r"\w+(?:['’]\w+)*")
#: A line's visible text: its first to its last non-space character (``\s`` is exactly the
#: white space ``str.strip`` removes).
_LINE_RE = re.compile(r"\S(?:[^\n]*\S)?")
#: For ASCII text, every character that is neither a word character (``\w``) nor an
#: apostrophe, mapped to a space (see :func:`ascii_words`).
_ASCII_NON_WORD = {c: " " for c in range(128)
                   if not (chr(c).isalnum() or chr(c) in "_'")}
#: The same, as a bytes table (bytes >= 0x80, parts of non-ASCII characters, unchanged).
_ASCII_NON_WORD_BYTES = bytes(32 if c in _ASCII_NON_WORD else c for c in range(256))
_ASCII_BYTES = bytes(range(128))
#: Printable ASCII, newline and tab: the characters that never need normalising.
_PLAIN_ASCII_BYTES = bytes(range(0x20, 0x7F)) + b"\n\t"
_RSQUO = "\u2019".encode()
#: Distinct non-ASCII separator characters :func:`split_words` replaces before it prefers
#: the regex (each replacement is one pass over the text).
_MAX_REPLACED_SEPARATORS = 64
_PARA_SPLIT_RE = re.compile(r"\n[ \t\r\f\v]*\n")
# Characters removed for analysis: Unicode format characters (Cf) such as U+200B..U+200F,
# U+202A..U+202E, U+2060..U+2064, U+FEFF. Precomputed over the BMP and astral planes lazily.
_CONTROL_KEEP = {"\n", "\t"}


class cached_property:  # noqa: N801 - a drop-in for functools.cached_property
    """``functools.cached_property`` without its lock: Python 3.11 takes one lock per
    property, shared by every instance, on each first access (3.12 dropped it). A
    :class:`Document` belongs to one request; at worst two threads compute a view twice."""

    def __init__(self, func):
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.attrname = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.attrname] = self.func(instance)
        return value


class InputError(ValueError):
    """Input farmscore refuses to score, with a machine-readable ``code``.

    Codes: ``empty``, ``too_large``, ``binary``, ``encoding``, ``type``.
    """

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def to_dict(self) -> dict:
        return {"code": self.code, "reason": self.reason}


def decode_bytes(data: bytes, encoding: str = "utf-8") -> str:
    """Decode strictly; say at which byte and why decoding failed."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError("type", f"expected bytes, got {type(data).__name__}")
    try:
        return bytes(data).decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            "encoding",
            f"not valid {encoding}: {exc.reason} at byte {exc.start}; "
            "re-encode the page or name its encoding",
        ) from None
    except LookupError:
        raise InputError("encoding", f"unknown encoding {encoding!r}") from None


def ascii_words(text: str) -> list[str]:
    """``WORD_RE.findall(text)`` for ASCII ``text``, in C-level string operations (~3x faster).

    Non-word characters become spaces; an apostrophe joins a word only between two word
    characters, so apostrophes next to another apostrophe or to a space (or the text's ends)
    become spaces too; splitting on white space then gives the words.
    """
    s = text.translate(_ASCII_NON_WORD)
    if "'" in s:
        s = f" {s} ".replace("''", "  ").replace(" '", "  ").replace("' ", "  ")
    return s.split()


def split_words(text: str) -> list[str]:
    """``WORD_RE.findall(text)`` for any ``text``, by :func:`ascii_words`' string operations
    on the UTF-8 bytes (~4x faster than the regex on a mostly-ASCII page).

    ``\\w`` is ``str.isalnum`` or ``_``, one character at a time, so each distinct non-ASCII
    character that is neither (nor the apostrophe ``’``) becomes a space; both apostrophes
    then follow the ASCII rule (kept only between two word characters). Replacing whole
    UTF-8 sequences is safe: UTF-8 is self-synchronising, so a character's bytes occur only
    where that character is. A page with many distinct non-word characters (symbol soup)
    takes the regex, whose cost does not grow with them.
    """
    if text.isascii():
        return ascii_words(text)
    raw = text.encode("utf-8", "surrogatepass")
    b = raw.translate(_ASCII_NON_WORD_BYTES)
    apostrophes = [b"'"] if b"'" in b else []
    seps = []
    for ch in set(raw.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")):
        if ch == "\u2019":
            apostrophes.append(_RSQUO)
        elif not ch.isalnum():
            seps.append(ch.encode("utf-8", "surrogatepass"))
    if len(seps) > _MAX_REPLACED_SEPARATORS:
        return WORD_RE.findall(text)
    for sep in seps:
        b = b.replace(sep, b" ")
    if apostrophes:
        b = b" " + b + b" "
        for a in apostrophes:  # no two apostrophes left side by side
            for a2 in apostrophes:
                b = b.replace(a + a2, b"  ")
        for a in apostrophes:  # nor one next to a space
            b = b.replace(b" " + a, b"  ")
        for a in apostrophes:
            b = b.replace(a + b" ", b"  ")
    return b.decode("utf-8", "surrogatepass").split()


def needs_normalising(text: str) -> bool:
    """Whether ``text`` holds a character :meth:`Document._normalise` removes or replaces
    (``_SUSPECT_RE``), found without running that many-range class over every character.

    Deleting printable ASCII, newline and tab from the UTF-8 bytes (one C-level pass) leaves
    exactly the characters the class can match, plus other non-ASCII ones: usually nothing,
    or a few pound signs and quotes, where the class then runs.
    """
    rest = text.encode("utf-8", "surrogatepass").translate(None, _PLAIN_ASCII_BYTES)
    if not rest:
        return False
    if rest.isascii():
        return True  # ASCII control characters only
    return _SUSPECT_RE.search(rest.decode("utf-8", "surrogatepass")) is not None


def _is_removed(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf"


def _is_control(ch: str) -> bool:
    return ch not in _CONTROL_KEEP and unicodedata.category(ch) == "Cc"


# What normalisation removes or replaces (see :func:`needs_normalising`).
# Every Cf and Cc character of this Python's Unicode database (14.0 on 3.11) but "\n" and
# "\t": tests/test_encoding_normalise.py checks the class against unicodedata, so a newer
# Unicode (or a character left out, as U+0890, U+0891 and U+13430-13438 once were: a page
# holding only those was never normalised) fails a test instead of slipping through.
_SUSPECT_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f"
                         r"\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                         r"\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
                         r"\U00013430-\U00013438\U0001bca0-\U0001bca3"
                         r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")


@dataclass
class Document:
    """A validated page. Build it with :meth:`from_text` or :meth:`from_bytes`."""

    text: str
    norm: str
    #: ``offset_map[i]`` is the index in ``text`` of ``norm[i]``; ``None`` when identical.
    offset_map: np.ndarray | None = None
    removed_chars: int = 0
    control_chars: int = 0
    #: Who the page is, when known: the originality index never matches a page to itself,
    #: and prefers the earliest published of several sources.
    page_id: str | None = None
    published: str | None = None

    # ---- construction -------------------------------------------------------------
    @classmethod
    def from_bytes(cls, data: bytes, encoding: str = "utf-8",
                   max_chars: int = DEFAULT_MAX_CHARS) -> "Document":
        if b"\x00" in data[:8192] and data[:8192].count(b"\x00") > 8:
            raise InputError("binary", "looks like binary data (NUL bytes), not text")
        return cls.from_text(decode_bytes(data, encoding), max_chars=max_chars)

    @classmethod
    def from_text(cls, text: str, max_chars: int = DEFAULT_MAX_CHARS) -> "Document":
        if not isinstance(text, str):
            raise InputError("type", f"text must be a string, got {type(text).__name__}")
        if len(text) > max_chars:
            raise InputError(
                "too_large", f"text has {len(text):,} characters; the limit is {max_chars:,}"
            )
        if not text.strip():
            raise InputError("empty", "text is empty or only white space")
        if not needs_normalising(text):
            return cls(text=text, norm=text)  # nothing to remove or replace
        return cls._normalise(text)

    @classmethod
    def _normalise(cls, text: str) -> "Document":
        keep_idx: list[int] = []
        out: list[str] = []
        removed = controls = 0
        for i, ch in enumerate(text):
            if _is_removed(ch):
                removed += 1
                continue
            if ch == "\r":  # CRLF -> " \n" (same length), lone CR -> newline
                ch = " " if text[i + 1:i + 2] == "\n" else "\n"
            elif _is_control(ch):
                controls += 1
                ch = " "
            out.append(ch)
            keep_idx.append(i)
        norm = "".join(out)
        if controls > max(32, 0.05 * len(text)):
            raise InputError(
                "binary", f"{controls:,} control characters in {len(text):,}: binary, not text"
            )
        if not norm.strip():
            raise InputError("empty", "text has no visible characters")
        return cls(text=text, norm=norm, offset_map=np.asarray(keep_idx, dtype=np.int64),
                   removed_chars=removed, control_chars=controls)

    # ---- offsets --------------------------------------------------------------------
    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``norm`` span to the caller's ``text``."""
        if self.offset_map is None:
            return start, end
        n = len(self.offset_map)
        s = int(self.offset_map[start]) if start < n else len(self.text)
        e = int(self.offset_map[end - 1]) + 1 if 0 < end <= n else s
        return s, max(s, e)

    # ---- shared views (computed once, on first use) ----------------------------------
    @cached_property
    def lines(self) -> list[tuple[int, int]]:
        """(start, end) of every line with visible text, stripped of outer white space."""
        return [m.span() for m in _LINE_RE.finditer(self.norm)]

    @cached_property
    def line_texts(self) -> list[str]:
        return [self.norm[s:e] for s, e in self.lines]

    @cached_property
    def paragraphs(self) -> list[tuple[int, int]]:
        """(start, end) of blank-line separated blocks, stripped."""
        out = []
        pos = 0
        norm = self.norm
        for m in _PARA_SPLIT_RE.finditer(norm):
            out.append((pos, m.start()))
            pos = m.end()
        out.append((pos, len(norm)))
        res = []
        for s, e in out:
            seg = norm[s:e]
            st = seg.strip()
            if st:
                lead = len(seg) - len(seg.lstrip())
                res.append((s + lead, s + lead + len(st)))
        return res

    @cached_property
    def words(self) -> list[str]:
        return split_words(self.norm)

    @cached_property
    def lower_words(self) -> list[str]:
        return list(map(str.lower, self.words))

    @cached_property
    def code_points(self) -> np.ndarray:
        """``norm`` as a read-only uint32 array of code points (for the compiled passes)."""
        return np.frombuffer(self.norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    @cached_property
    def word_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]] | None:
        """(starts, ends, ids, is_upper, vocab) of the words in one compiled pass
        (:func:`features.word_table.word_table`), or None when the text needs the Python
        path (characters beyond the Basic Multilingual Plane, or a word whose lower case is
        not per character). The word views below read it instead of building per-word
        Python strings: ~0.1 ms less on a 5 KB page."""
        norm = self.norm
        cp = self.code_points
        if not norm.isascii() and len(cp) and int(cp.max()) >= 65536:
            return None
        starts, ends, ids, upper, vocab, ok = word_table(cp, CLASSES, LOWER)
        if not ok:
            return None
        return starts, ends, ids, upper, vocab.tobytes().decode("utf-32-le", "surrogatepass").split()

    @cached_property
    def word_ids(self) -> tuple[np.ndarray, list[str]]:
        """(ids, vocab) of the lower-case words: ``vocab`` the distinct ones in order of first
        occurrence, ``ids[i]`` the index in ``vocab`` of ``lower_words[i]``.

        Exact (equal lower-case words, not hashes). From :attr:`word_table` when it applies;
        otherwise one C-level pass: ``dict.setdefault`` gives each word the position of its
        first occurrence, which a look-up table turns into its rank.
        Extractors count or look up per distinct word, and compare n-grams as integers.
        """
        table = self.word_table
        if table is not None:
            return table[2], table[4]
        words = self.lower_words
        n = len(words)
        first_at: dict[str, int] = {}
        first = np.fromiter(map(first_at.setdefault, words, range(n)), dtype=np.int64, count=n)
        rank = np.empty(n, dtype=np.int64)
        rank[np.fromiter(first_at.values(), dtype=np.int64, count=len(first_at))] = np.arange(len(first_at))
        return rank[first], list(first_at)

    @cached_property
    def n_words(self) -> int:
        """``len(self.words)``, without building the words when :attr:`word_table` applies."""
        table = self.word_table
        return len(table[0]) if table is not None else len(self.words)

    @cached_property
    def lower_word_lengths(self) -> np.ndarray:
        """``len`` of each lower-case word (int64): what n-gram character shares add up."""
        table = self.word_table
        if table is not None:  # lower case is per character here: lengths are unchanged
            return table[1] - table[0]
        words = self.lower_words
        return np.fromiter(map(len, words), dtype=np.int64, count=len(words))

    @cached_property
    def upper_word_count(self) -> int:
        """Words of two or more characters that are upper case (``str.isupper``)."""
        table = self.word_table
        if table is not None:
            starts, ends, _, upper, _ = table
            return int(np.count_nonzero(upper.view(bool) & (ends - starts > 1)))
        return sum(len(w) > 1 for w in filter(str.isupper, self.words))

    @cached_property
    def word_starts(self) -> np.ndarray:
        """Character offset of each word; built only when evidence needs it."""
        table = self.word_table
        if table is not None:
            return table[0]
        return np.fromiter((m.start() for m in WORD_RE.finditer(self.norm)), dtype=np.int64)

    def word_span(self, i: int, j: int) -> tuple[int, int]:
        """Character span in ``norm`` of words ``i`` (inclusive) to ``j`` (exclusive)."""
        starts = self.word_starts
        if not len(starts):
            return 0, 0
        i = min(max(i, 0), len(starts) - 1)
        j = min(max(j, i + 1), len(starts))
        last = starts[j - 1]
        m = WORD_RE.match(self.norm, int(last))
        return int(starts[i]), (m.end() if m else int(last))
