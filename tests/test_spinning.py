"""Synonym-spinning detection: seed pages, the spinner and the reference file."""

from __future__ import annotations

import re

import pytest

from features.document import Document
from features.spinning import SpinningExtractor, load_reference, reference_path

ORIGINAL_RE = re.compile(r"^likely original: ([^;]+)(;|$)")


@pytest.fixture(scope="module")
def extractor() -> SpinningExtractor:
    return SpinningExtractor()


def _apply(page: str, start: int, end: int, spans) -> str:
    """The page window [start, end) widened to the spans touching it, originals put back."""
    touching = sorted((s for s in spans if s.start < end and start < s.end), key=lambda s: s.start)
    lo = min([start] + [s.start for s in touching])
    hi = max([end] + [s.end for s in touching])
    out, pos = [], lo
    for s in touching:
        out.append(page[pos:s.start])
        out.append(ORIGINAL_RE.match(s.detail).group(1))
        pos = s.end
    out.append(page[pos:hi])
    return "".join(out)


def test_reference_loads():
    assert reference_path().exists(), "run python -m training.build_spin_reference"
    ref = load_reference()
    assert ref.size > 50_000
    assert len(ref.bigram) > 100_000
    assert ref.syn and ref.known_names and ref.tortured
    assert ref.meta["held_out"]
    # the thesaurus knows a synonym pair spinners use, with inflection
    war = ref.vocab["war"]
    assert war in {t for t, _ in ref.syn[ref.vocab["warfare"]]}
    assert ref.vocab["images"] in {t for t, _ in ref.syn[ref.vocab["photos"]]}


def test_features_and_span_contract(extractor, seeds):
    doc = Document.from_text(seeds["001"])
    res = extractor.extract(doc)
    assert list(res.features) == list(SpinningExtractor.FEATURES)
    assert all(isinstance(v, float) for v in res.features.values())
    assert 0.0 <= res.features["spin_score"] <= 1.0
    assert res.evidence
    for s in res.evidence:
        assert s.signal == "spun_phrase"
        assert doc.norm[s.start:s.end] == s.text
        assert ORIGINAL_RE.match(s.detail), s.detail


def test_seed_001_spun_phrases_found_with_original(extractor, seeds, seed_expectations):
    page = seeds["001"]
    spans = extractor.extract(Document.from_text(page)).evidence
    pairs = seed_expectations["001"]["spun_phrases"]
    found = []
    for spun, original in pairs:
        start = page.index(spun)
        repaired = _apply(page, start, start + len(spun), spans)
        if original.lower() in repaired.lower():
            found.append(spun)
    assert len(found) >= 8, f"found {found}"


@pytest.mark.parametrize("seed_id", ["000", "004"])
def test_unspun_seeds_nearly_clean(extractor, seeds, seed_id):
    res = extractor.extract(Document.from_text(seeds[seed_id]))
    # "next to nothing": at most one flag per 200 words (seed 004 is an LLM paraphrase
    # with a few real word swaps; 001 has ~3 per 100 words)
    n_words = len(Document.from_text(seeds[seed_id]).words)
    assert len(res.evidence) <= max(2, n_words / 200), [(s.text, s.detail) for s in res.evidence]
    spun = extractor.extract(Document.from_text(seeds["001"]))
    assert spun.features["spin_score"] > res.features["spin_score"]


def test_short_text_and_tortured_phrase(extractor):
    res = extractor.extract(Document.from_text("Hello."))
    assert res.features["spin_phrases_per_100w"] == 0.0
    ref = load_reference()
    first = next(iter(ref.tortured))
    phrase, good = ref.tortured[first][0]
    text = f"In this paper we describe the {' '.join(phrase)} used in our work."
    ev = extractor.extract(Document.from_text(text)).evidence
    assert any(s.detail.startswith(f"likely original: {good}") for s in ev)


def test_case_preserved_in_original(extractor):
    text = "Officials at the White Home said on Friday that talks would resume in Could."
    ev = extractor.extract(Document.from_text(text)).evidence
    originals = {s.text: ORIGINAL_RE.match(s.detail).group(1) for s in ev}
    assert originals.get("Home") == "House" or originals.get("White Home") == "White House"


# ---- the spinner -------------------------------------------------------------------------
TEXT = ("The government announced on Tuesday that it would increase spending on public "
        "schools and hospitals, after months of pressure from teachers and doctors. "
        "Economists warned that the plan could raise borrowing, but ministers insisted the "
        "country could afford the extra costs because tax receipts had grown strongly. "
        "Opposition leaders welcomed the decision but demanded a clear timetable.")


@pytest.fixture(scope="module")
def spinner():
    """WordNet spinner; without wordnet-base it falls back to the reference thesaurus."""
    from training.spinner import Spinner

    return Spinner().fit()


def test_spinner_without_wordnet_files_uses_reference(tmp_path):
    from training.spinner import Spinner

    sp = Spinner(wordnet_dir=tmp_path).fit()
    res = sp.spin(TEXT, 0.3, seed=2)
    assert res.replacements and res.text == sp.spin(TEXT, 0.3, seed=2).text


@pytest.mark.parametrize("rate", [0.1, 0.2, 0.4])
def test_spinner_rate_respected(spinner, rate):
    res = spinner.spin(TEXT, rate=rate, seed=3)
    assert res.n_content > 20
    assert abs(len(res.replacements) - round(rate * res.n_content)) <= 0
    assert res.text != TEXT
    for r in res.replacements:
        assert r.old.lower() != r.new.lower()


def test_spinner_deterministic_and_seed_dependent(spinner):
    a = spinner.spin(TEXT, 0.3, seed=11).text
    assert a == spinner.spin(TEXT, 0.3, seed=11).text
    assert a != spinner.spin(TEXT, 0.3, seed=12).text


def test_spinner_keeps_punctuation_and_case(spinner):
    res = spinner.spin(TEXT, 0.4, seed=5)
    strip = lambda t: re.sub(r"\w+", "", t)  # noqa: E731
    assert strip(res.text) == strip(TEXT)
    for r in res.replacements:
        assert r.new[:1].isupper() == r.old[:1].isupper()


def test_spinner_zero_rate_is_identity(spinner):
    assert spinner.spin(TEXT, 0.0, seed=1).text == TEXT
    with pytest.raises(ValueError):
        spinner.spin(TEXT, 1.5)


@pytest.mark.data
def test_spun_held_out_article_scores_higher(extractor, spinner, shared_data):
    from training.build_spin_reference import held_out_articles

    arts = held_out_articles("eval")[:20]
    clean = [extractor.extract(Document.from_text(a.text)).features["spin_score"] for a in arts]
    spun = [extractor.extract(Document.from_text(spinner.spin(a.text, 0.2, seed=i).text))
            .features["spin_score"] for i, a in enumerate(arts)]
    assert sum(s > c for s, c in zip(spun, clean)) >= 16


def test_split_words_matches_regex_split():
    """The array tokeniser gives the regex split's words, offsets and gap flags exactly."""
    import random

    from features.spinning import _split_words_re, split_words

    rng = random.Random(0)
    alphabet = list("aZ9_ '’'-\n\t.,;:!?()[]{}\"“”«»|•…–—‘xé日\u00a0\u2028\u3000") + [
        "\U0001F600", "\ud800", " - ", "can't", "rock 'n' roll"]
    for _ in range(20000):
        t = "".join(rng.choice(alphabet) if rng.random() < 0.7 else chr(rng.randrange(65536))
                    for _ in range(rng.randrange(0, 30)))
        assert split_words(t) == _split_words_re(t), repr(t)


def test_compiled_decoder_matches_python_reference(extractor, seeds, monkeypatch):
    """The compiled decoding (spin_lattice) gives the Python reference's features and spans
    exactly, on the seeds, a spun page and tortured phrases; and compiles nothing per page."""
    import features.spinning as spinning
    from features import spin_lattice
    from training.spinner import spin

    pages = list(seeds.values()) + [
        spin(seeds["000"], rate=0.4, seed=3),
        "The White Home said in Could that the commerce warfare would go on. Chinese "
        "language President Xi met the Chinese language delegation.",
        "In this paper we use a profound learning strategy and an irregular woodland.",
    ]
    fast = [extractor.extract(Document.from_text(p)) for p in pages]
    monkeypatch.setattr(spinning, "_USE_COMPILED", False)
    slow = [extractor.extract(Document.from_text(p)) for p in pages]
    for f, s in zip(fast, slow):
        assert f.features == s.features
        assert f.evidence == s.evidence
    for fn in (spin_lattice.tokens, spin_lattice.columns, spin_lattice.find_sites,
               spin_lattice.decode_runs):
        assert len(fn.signatures) == 1, fn  # compiled once, when the tables were built


def test_word_table_gives_the_codes_of_word_code(monkeypatch):
    """The compiled page-word cache returns exactly ``_word_code`` of each word, also after
    it grows and after it is cleared at its bound."""
    import numpy as np

    from features import spinning as sp

    ref = load_reference()
    table = sp._WordTable()
    monkeypatch.setattr(sp._WordTable, "MAX_ENTRIES", 30_000)
    # words that share prefixes, differ in case or apostrophe, repeat; ~36k of them: the
    # arrays grow, and the table is cleared once
    text = " ".join(f"Word{k} word{k} wörd’s{k % 7} MAY may {k}" for k in range(12_000))
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    words = sp.WORD_RE.findall(text)
    want = [sp._word_code(w, ref.vocab, {}, {}) for w in words]
    for _ in range(2):  # first pass: learn (growing, then clearing); second: look up
        starts, ends, _flags, codes = table.codes(cp)
        assert [text[a:b] for a, b in zip(starts.tolist(), ends.tolist())] == words
        seen: dict[str, int] = {}
        for i, c in enumerate(codes.tolist()):
            w = text[starts[i]:ends[i]]
            if c < 0 and w not in seen:
                seen[w] = i
            else:
                assert c < 0 or c == want[i], w
        idx = np.array(sorted(seen.values()), dtype=np.int64)
        for part in np.array_split(idx, max(1, len(idx) // 5000)):
            table.add(cp, starts[part], ends[part],
                      np.array([want[i] for i in part.tolist()], dtype=np.int64))
        assert table.n <= 30_000 + 5000
    starts, ends, _flags, codes = table.codes(cp)
    known = codes >= 0
    assert known.any()
    assert codes[known].tolist() == [want[i] for i in np.flatnonzero(known).tolist()]
