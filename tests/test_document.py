"""Bad input: every kind gets a clear error or a well-defined result, never a crash."""

from __future__ import annotations

import pytest

from features.document import Document, InputError
from features.pipeline import FeaturePipeline

PIPE = FeaturePipeline()


def _code(fn) -> str:
    with pytest.raises(InputError) as info:
        fn()
    assert info.value.reason  # a reason a person can read
    return info.value.code


def test_empty_text_is_refused():
    assert _code(lambda: PIPE.run("")) == "empty"


@pytest.mark.parametrize("ws", [" ", "\n\n\t  \n", "\u00a0\u2003\n"])
def test_only_white_space_is_refused(ws):
    assert _code(lambda: PIPE.run(ws)) == "empty"


def test_only_invisible_characters_is_refused():
    assert _code(lambda: PIPE.run("\u200b\u200d\ufeff" * 10)) == "empty"


def test_five_megabytes_is_refused_with_the_limit_named():
    big = "word " * 1_000_000  # 5 MB
    with pytest.raises(InputError) as info:
        PIPE.run(big)
    assert info.value.code == "too_large"
    assert "1,000,000" in info.value.reason


def test_binary_bytes_are_refused():
    blob = bytes(range(256)) * 64
    assert _code(lambda: PIPE.run(blob)) in {"binary", "encoding"}
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200
    assert _code(lambda: PIPE.run(png)) == "binary"


def test_invalid_utf8_names_the_byte():
    data = "A caf\u00e9 article about trade.".encode("latin-1")
    with pytest.raises(InputError) as info:
        PIPE.run(data)
    assert info.value.code == "encoding"
    assert "byte 5" in info.value.reason


def test_other_encoding_can_be_named():
    data = "A caf\u00e9 article about trade and tariffs.".encode("latin-1")
    page = PIPE.run(data, encoding="latin-1")
    assert page.doc.text.startswith("A caf\u00e9")


def test_a_few_nul_characters_become_spaces_and_offsets_hold(seeds):
    text = seeds["000"].replace("Kuala Lumpur", "Kuala\x00Lumpur", 1)
    page = PIPE.run(text)
    assert page.doc.control_chars == 1
    span = next(s for s in page.evidence if s.signal == "pasted_twice")
    assert text[span.start:].startswith("The talks on the sidelines")


def test_many_control_characters_mean_binary():
    text = "word " * 100 + "\x01\x02\x03\x04" * 200
    assert _code(lambda: PIPE.run(text)) == "binary"


def test_zero_width_characters_are_removed_and_offsets_map_back(seeds):
    # spammers break words with zero-width spaces; the repeat must still be found, and the
    # reported offset must index the text as given (with the invisible characters in it)
    text = seeds["000"].replace("trade", "tr\u200bade").replace("China", "Chi\u200dna")
    page = PIPE.run(text)
    assert page.features["ts_invisible_char_frac"] > 0
    span = next(s for s in page.evidence if s.signal == "pasted_twice")
    assert text[span.start:].startswith("The talks on the sidelines")
    assert text.count("The talks on the sidelines") == 2
    assert span.start == text.index("The talks on the sidelines", text.index("The talks on the sidelines") + 1)
    assert span.text == text[span.start:span.end][:300]


def test_right_to_left_text_and_bidi_overrides_are_handled():
    text = ("\u202eThis line is reversed by a bidi override.\u202c\n"
            "\u05d7\u05d3\u05e9\u05d5\u05ea \u05d4\u05d9\u05d5\u05dd \u05d1\u05d9\u05e9\u05e8\u05d0\u05dc "
            "and an English sentence about the markets.\n"
            "\u0627\u0644\u0623\u062e\u0628\u0627\u0631 \u0627\u0644\u064a\u0648\u0645\n")
    page = PIPE.run(text)
    assert page.doc.removed_chars == 2  # the two bidi controls
    assert page.features["fs_non_latin_letter_frac"] > 0.2
    spans = [s for s in page.evidence if s.signal == "foreign_script"]
    assert spans and all(text[s.start:s.end] == s.text for s in spans)


def test_one_enormous_line_has_a_defined_result():
    line = " ".join(["The market rose as traders bought shares in the morning session"] * 12_000)
    page = PIPE.run(line)
    assert len(page.doc.lines) == 1
    assert page.features["tail_detected"] == 0.0
    assert page.features["dup_repeated_word_frac"] > 0.9  # it is one sentence repeated


def test_crlf_line_endings_keep_offsets():
    text = "Title\r\n\r\nFirst paragraph of the story.\r\nSecond line here.\r\n"
    doc = Document.from_text(text)
    assert [text[s:e] for s, e in doc.lines] == ["Title", "First paragraph of the story.",
                                                  "Second line here."]


def test_non_string_is_a_type_error():
    assert _code(lambda: Document.from_text(123)) == "type"  # type: ignore[arg-type]


def test_ascii_word_splitter_equals_the_word_regex():
    """``Document.words`` takes a string-operation path for ASCII text; it must give exactly
    what ``WORD_RE`` gives (apostrophes inside, around and doubled; every ASCII character)."""
    import random

    from features.document import WORD_RE, ascii_words

    rng = random.Random(0)
    pieces = list("ab_Z09' .,-\n\t\x0b\x0c\x1c\r\x00") + ["  ", "'s", "''", "'''", "a'b"]
    texts = ["".join(chr(i) for i in range(128)) * 2 + "a'b 'c d' e''f '", "'", "''", "a'"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 16))) for _ in range(20_000)]
    for t in texts:
        assert ascii_words(t) == WORD_RE.findall(t), repr(t)


def test_word_splitter_equals_the_word_regex_on_any_text():
    """``split_words`` (byte operations for non-ASCII text) gives exactly ``WORD_RE``'s words:
    both apostrophes, non-ASCII letters, digits and separators, combining marks, surrogates,
    astral characters, and symbol soup (the regex fallback)."""
    import random

    from features.document import WORD_RE, split_words

    rng = random.Random(0)
    pieces = list("ab_Z09' .,-\n\t\x0b\x0c\x1c\r\x00") + [
        "  ", "'s", "''", "a'b", "\u2019", "\u2019\u2019", "'\u2019", "\u2019'", "a\u2019b",
        "\u00e9", "\u00a3", "\u201c", "\u00a0", "\u2028", "\x85", "\u200b", "\u0301", "\ud800",
        "\U0001f600", "\u4e2d", "\u0661", "\u00b2", "\u0130", "\u00df", "\u00ad", "\u2014"]
    texts = ["".join(chr(i) for i in range(0x3000)), "\u2019", "a\u2019", "\u00e9'"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 16))) for _ in range(20_000)]
    for t in texts:
        assert split_words(t) == WORD_RE.findall(t), repr(t)


def test_normalising_is_needed_exactly_when_a_suspect_character_is_there():
    import random

    from features.document import _SUSPECT_RE, needs_normalising

    rng = random.Random(0)
    pieces = list("ab .\n\t\r\x00\x1f\x7f") + ["\x85", "\u00a3", "\u00ad", "\u200b", "\ufeff",
                                                  "\ud800", "\U000e0041", "\u4e2d", "\u2019"]
    for _ in range(20_000):
        t = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert needs_normalising(t) == bool(_SUSPECT_RE.search(t)), repr(t)


def test_lines_are_the_stripped_visible_lines():
    import random

    rng = random.Random(0)
    pieces = list("ab .\n\t\x0b\x0c\x1c\r") + ["\u2028", "\u00a0", "\x85", "\u3000", "  ", "\n\n"]
    for _ in range(20_000):
        t = "x" + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        doc = Document(text=t, norm=t)
        want = []
        pos = 0
        for seg in t.split("\n"):
            if seg.strip():
                lead = len(seg) - len(seg.lstrip())
                want.append((pos + lead, pos + lead + len(seg.strip())))
            pos += len(seg) + 1
        assert doc.lines == want, repr(t)


def test_word_table_matches_python_views():
    """The compiled word pass gives exactly the Python views: word starts, ids and vocab of
    the lower-case words, lengths, upper-case words; texts it cannot take fall back."""
    import numpy as np

    from features.document import WORD_RE, Document

    texts = [
        "The BBC's £5bn plan, rock’n’roll 'quoted' it''s a'b ’tis O'NEIL _x_ A1 I",
        "Ǆemal ǅ ǆ DŽ Ⅰ ⅰ Ⅻ ÉCOLE école Straße STRASSE ﬁne",
        "İstanbul and ΟΔΟΣ and ΣΑΣ",  # per-character lower case fails: Python path
        "Emoji \U0001f600 beyond the plane",  # Python path
        "", "   ", "a", "AB ab Ab aB 12 1A",
    ]
    for t in texts:
        fast = Document(text=t, norm=t)
        slow = Document(text=t, norm=t)
        slow.__dict__["word_table"] = None
        words = WORD_RE.findall(t)
        assert fast.n_words == slow.n_words == len(words)
        ids_f, vocab_f = fast.word_ids
        ids_s, vocab_s = slow.word_ids
        assert ids_f.tolist() == ids_s.tolist() and vocab_f == vocab_s, t
        assert vocab_s == list(dict.fromkeys(w.lower() for w in words))
        assert fast.lower_word_lengths.tolist() == slow.lower_word_lengths.tolist()
        assert fast.upper_word_count == slow.upper_word_count
        assert fast.word_starts.tolist() == slow.word_starts.tolist()
        assert fast.word_starts.dtype == np.int64
