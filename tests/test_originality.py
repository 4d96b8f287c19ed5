"""The originality index names what a page was copied, spun or rewritten from.

Every test runs on both backends (local SQLite files and the real Redis at
127.0.0.1:6379, each test under its own key prefix, deleted afterwards).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import re
import sqlite3
import uuid

import numpy as np
import pytest

from features.document import Document
from features.originality import OriginalityExtractor
from originality import (
    CorruptIndexError,
    DuplicateIdError,
    IndexNotFoundError,
    IndexVersionError,
    InvalidPageError,
    open_index,
)
from originality.fingerprints import fingerprint, nnq_items, tokenize, word_hash
from originality.index import VERSION
from originality.store import SQLITE_FILE

REDIS = "redis://127.0.0.1:6379/0"
BACKENDS = ["local", "redis"]
SOURCE_ID = "reuters/us-china-kl-talks"


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except Exception:
        return False


class Locations:
    """Fresh index locations for one test; drops every Redis key it handed out."""

    def __init__(self, backend: str, tmp_path):
        self.backend, self.tmp_path, self.prefixes = backend, tmp_path, []

    def new(self) -> str:
        if self.backend == "local":
            return str(self.tmp_path / f"idx-{uuid.uuid4().hex[:8]}")
        prefix = f"farmscore-test:{uuid.uuid4().hex}"
        self.prefixes.append(prefix)
        return f"{REDIS}?prefix={prefix}"

    def cleanup(self) -> None:
        if self.prefixes:
            import redis

            r = redis.Redis.from_url(REDIS)
            for p in self.prefixes:
                keys = list(r.scan_iter(match=f"{p}:*", count=10_000))
                if keys:
                    r.delete(*keys)
            r.close()


def _locations(request, tmp_path_factory) -> Locations:
    backend = request.param
    if backend == "redis" and not _redis_available():
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    locs = Locations(backend, tmp_path_factory.mktemp(backend))
    request.addfinalizer(locs.cleanup)
    return locs


@pytest.fixture(params=BACKENDS)
def locations(request, tmp_path_factory) -> Locations:
    return _locations(request, tmp_path_factory)


@pytest.fixture(params=BACKENDS, scope="module")
def module_locations(request, tmp_path_factory) -> Locations:
    return _locations(request, tmp_path_factory)


def first_copy(seeds, seed_expectations) -> str:
    """Seed 000 up to where its body starts repeating: stands in for the Reuters original."""
    text = seeds["000"]
    start = seed_expectations["000"]["pasted_twice"]["second_copy_starts_with"]
    first = text.find(start)
    second = text.find(start, first + 1)
    assert 0 <= first < second, "seed 000 no longer repeats its second paragraph"
    return text[:second].strip()


def common_run(a: str, b: str, n: int = 12) -> bool:
    """Do two texts share a passage of ``n`` consecutive words (independent of the index)?"""
    wa, wb = re.findall(r"\w+", a.lower()), re.findall(r"\w+", b.lower())
    grams = {tuple(wb[i:i + n]) for i in range(len(wb) - n + 1)}
    return any(tuple(wa[i:i + n]) in grams for i in range(len(wa) - n + 1))


# ---- the seeds and BBC, on a full index ------------------------------------------------
@pytest.fixture(scope="module")
def big_index(module_locations, shared_data, seeds, seed_expectations):
    from training.corpus import bbc_articles

    arts = bbc_articles()
    index = open_index(module_locations.new())
    src = first_copy(seeds, seed_expectations)
    res = index.add([{"id": SOURCE_ID, "text": src, "url": "https://www.reuters.com/x",
                      "published": "2025-10-25"}])
    assert res.added == 1
    res = index.add([{"id": a.id, "text": a.text} for a in arts], strict=True)
    assert res.added == len(arts) and not res.errors
    yield index, arts
    index.close()


@pytest.mark.data
@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_every_seed_names_the_reuters_source(big_index, seeds, seed):
    index, _ = big_index
    doc = Document.from_text(seeds[seed])
    ext = OriginalityExtractor(index=index).extract(doc)
    source = ext.meta["source"]
    assert source is not None, f"seed {seed} found no source"
    assert source["id"] == SOURCE_ID
    assert source["url"] == "https://www.reuters.com/x"
    assert source["published"].startswith("2025-10-25")
    assert source["method"] in {"copy", "spin", "paraphrase"}
    assert ext.features["orig_has_match"] == 1.0
    assert 0 < len(source["matched"]) <= 10
    for m in source["matched"]:  # offsets index doc.norm and the text is what is there
        assert doc.norm[m["start"]:m["end"]][:300] == m["text"] and m["text"].strip()
    assert {s.signal for s in ext.evidence} == {"copied_from_source"}
    assert set(ext.features) == set(OriginalityExtractor.FEATURES)


@pytest.mark.data
def test_methods_fit_the_technique(big_index, seeds):
    """Seed 000 is a verbatim copy covering nearly the whole page; seed 001 a spin."""
    index, _ = big_index
    m000 = index.query(seeds["000"])[0]
    assert m000.method == "copy" and m000.scores.source_in_page > 0.95
    assert m000.coverage > 0.9
    m001 = index.query(seeds["001"])[0]
    assert m001.method == "spin" and m001.scores.shingle_in_source < 0.5


@pytest.mark.data
def test_bbc_articles_match_only_real_reuse(big_index):
    """Random BBC articles (own id excluded) match nothing but pages they share text with.

    BBC 2004-05 reuses its own paragraphs across follow-up stories, and 98 files are exact
    duplicates, so "real reuse" is checked independently: an identical text or a shared
    run of 12 consecutive words. The seed source must never match a BBC article.
    """
    index, arts = big_index
    by_id = {a.id: a for a in arts}
    sample = random.Random(20251025).sample(arts, 120)
    unexplained, matched_pages = [], 0
    for a in sample:
        matches = index.query(a.text, page_id=a.id)
        matched_pages += bool(matches)
        for m in matches:
            assert m.id != SOURCE_ID and m.id != a.id
            if not common_run(a.text, by_id[m.id].text):
                unexplained.append((a.id, m.id, m.method))
    assert len(unexplained) <= 2, unexplained  # <= ~2% paraphrase-level same-story hits
    assert matched_pages <= 0.15 * len(sample)


@pytest.mark.data
def test_overlap_floors_never_drop_a_match(big_index, monkeypatch):
    """Skipping candidates below every method's overlap floor changes no query result."""
    import originality.index as index_module
    from training.eval_originality import spinner

    index, arts = big_index
    _, spin = spinner()
    picked = random.Random(5).sample(range(len(arts)), 40)
    queries = [(arts[i].text, arts[i].id) for i in picked[:15]]
    queries += [(spin(arts[i].text, 0.2, i), None) for i in picked[15:30]]
    queries += [(arts[i].text[: len(arts[i].text) // 3], None) for i in picked[30:]]
    fast = [index.query(q, page_id=pid) for q, pid in queries]
    monkeypatch.setattr(index_module, "_may_match", lambda fp, cands, t: [True] * len(cands))
    assert [index.query(q, page_id=pid) for q, pid in queries] == fast
    assert sum(map(bool, fast)) >= 25  # the comparison covered real matches


def test_stop_keys_are_ignored(locations, seeds, seed_expectations):
    """A key shared by more than ``max_postings`` pages names no source, on every backend."""
    text = _text(seeds, seed_expectations)
    loc = locations.new()
    with open_index(loc) as index:
        index.add([{"id": f"c{i}", "text": text} for i in range(3)])
        keys = index.keys(fingerprint(text))
        assert set(index.store.postings(keys, 3)) == set(keys)
        assert index.store.postings(keys, 2) == {}
        assert [m.id for m in index.query(text)] == ["c0", "c1", "c2"]
    with open_index(loc, max_postings=2) as index:
        assert index.query(text) == []  # every key is now a stop key


def test_numpy_minhash_is_datasketch_minhash():
    """Posting keys use MinHash values computed in numpy; they must be datasketch's."""
    import numpy as np

    from originality.index import PostingKeys

    keys = PostingKeys(num_perm=64, lsh_threshold=0.4, sample_mod=8)
    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 64, 400, 3000):
        shingles = np.unique(rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32))
        ref = keys.minhash(shingles).hashvalues
        got = keys.minhash_values(shingles)
        assert got.dtype == ref.dtype and got.tobytes() == ref.tobytes()


@pytest.mark.data
def test_worker_processes_build_the_same_index(tmp_path):
    from training.corpus import bbc_articles

    pages = [{"id": a.id, "text": a.text} for a in bbc_articles()[:600]]
    with open_index(tmp_path / "one") as one, open_index(tmp_path / "two", workers=2) as two:
        assert one.add(pages).added == two.add(pages).added == len(pages)
        rows = "SELECT seq, id, text_hash, fp FROM pages ORDER BY seq"
        assert one.store.db.execute(rows).fetchall() == two.store.db.execute(rows).fetchall()
        post = "SELECT key, seq FROM post ORDER BY key, seq"
        assert one.store.db.execute(post).fetchall() == two.store.db.execute(post).fetchall()


def test_damaged_fingerprint_is_a_clear_error(tmp_path, seeds, seed_expectations):
    text = _text(seeds, seed_expectations)
    with open_index(tmp_path / "idx") as index:
        index.add([{"id": "orig", "text": text}])
        index.store.db.execute("UPDATE pages SET fp = substr(fp, 1, 40)")
        with pytest.raises(CorruptIndexError, match="'orig' has a damaged fingerprint"):
            index.query(text)


# ---- small indexes: ordering, identity, bad input --------------------------------------
def _text(seeds, seed_expectations) -> str:
    return first_copy(seeds, seed_expectations)


def test_identical_text_under_another_id_is_a_copy_of_the_earlier(locations, seeds,
                                                                   seed_expectations):
    text = _text(seeds, seed_expectations)
    with open_index(locations.new()) as index:
        index.add([{"id": "orig", "text": text}])
        index.add([{"id": "copy", "text": text}])
        assert [m.id for m in index.query(text, page_id="copy")] == ["orig"]
        assert index.query(text, page_id="orig") == []  # never itself, never a later copy
        assert index.query(text)[0].id == "orig"  # an unknown page: the earliest


def test_adding_a_copy_never_makes_the_original_look_like_the_copy(locations, seeds,
                                                                   seed_expectations):
    with open_index(locations.new()) as index:
        index.add([{"id": "orig", "text": _text(seeds, seed_expectations)}])
        index.add([{"id": "spun", "text": seeds["001"]}, {"id": "para", "text": seeds["004"]}])
        assert index.query(_text(seeds, seed_expectations), page_id="orig") == []
        assert index.query(seeds["001"], page_id="spun")[0].id == "orig"
        assert index.query(seeds["004"], page_id="para")[0].id == "orig"


def test_earliest_published_is_the_source(locations, seeds, seed_expectations):
    text = _text(seeds, seed_expectations)
    with open_index(locations.new()) as index:
        # the later-dated copy is added first: dates, not the order of adding, decide
        index.add([{"id": "late", "text": text, "published": "2025-10-27"},
                   {"id": "undated", "text": text},
                   {"id": "early", "text": text, "published": "2025-10-25T08:00:00"}])
        matches = index.query(seeds["001"])
        assert [m.id for m in matches] == ["early", "late", "undated"]
        assert index.query(text, page_id="late")[0].id == "early"
        assert [m.id for m in index.query(text, page_id="early")] == []


def test_duplicate_ids_are_idempotent_or_rejected(locations, seeds, seed_expectations):
    text = _text(seeds, seed_expectations)
    with open_index(locations.new()) as index:
        assert index.add([{"id": "a", "text": text}]).added == 1
        again = index.add([{"id": "a", "text": text}])
        assert (again.added, again.duplicates) == (0, 1)
        with pytest.raises(DuplicateIdError, match="'a' is already indexed"):
            index.add([{"id": "b", "text": seeds["004"]}, {"id": "a", "text": seeds["004"]}])
        assert len(index) == 1  # strict: the whole batch was refused, nothing lost
        lenient = index.add([{"id": "b", "text": seeds["004"]},
                             {"id": "a", "text": seeds["004"]}], strict=False)
        assert lenient.added == 1 and lenient.errors[0][0] == 1
        assert len(index) == 2
        assert index.query(seeds["001"])[0].id == "a"  # "a" still holds the original text


@pytest.mark.parametrize("page, reason", [
    ({"id": "x", "text": ""}, "empty"),
    ({"id": "x", "text": " \n\t "}, "empty"),
    ({"text": "no id here at all"}, "no id"),
    ({"id": "x"}, "no text"),
    ({"id": "x", "text": "fine text", "published": "last tuesday"}, "not a date"),
    ("just a string", "must be an object"),
])
def test_bad_pages_are_refused_with_a_reason(locations, seeds, page, reason):
    with open_index(locations.new()) as index:
        index.add([{"id": "keep", "text": seeds["004"]}])
        with pytest.raises(InvalidPageError, match=reason):
            index.add([page])
        res = index.add([page, {"id": "ok", "text": seeds["001"]}], strict=False)
        assert res.added == 1 and res.errors[0][0] == 0 and reason in res.errors[0][1]
        assert len(index) == 2


def test_reopens_without_rebuilding(locations, seeds, seed_expectations):
    loc = locations.new()
    with open_index(loc) as index:
        index.add([{"id": "orig", "text": _text(seeds, seed_expectations)}])
    with open_index(loc, create=False) as index:
        assert len(index) == 1
        assert index.query(seeds["001"])[0].id == "orig"


def test_missing_index_with_create_false(locations):
    with pytest.raises(IndexNotFoundError, match="no index"):
        open_index(locations.new(), create=False)


def _corrupt_version(loc: str, backend: str, version: str) -> None:
    if backend == "local":
        db = sqlite3.connect(f"{loc}/{SQLITE_FILE}")
        db.execute("UPDATE meta SET v = ? WHERE k = 'version'", (version,))
        db.commit()
        db.close()
    else:
        import redis

        from originality.store import parse_redis_url

        url, prefix = parse_redis_url(loc)
        redis.Redis.from_url(url).hset(f"{prefix}:meta", "version", version)


def test_index_from_another_version_is_refused_and_kept(locations, seeds, seed_expectations):
    loc = locations.new()
    with open_index(loc) as index:
        index.add([{"id": "orig", "text": _text(seeds, seed_expectations)}])
    _corrupt_version(loc, locations.backend, "0")
    with pytest.raises(IndexVersionError, match="version '0'"):
        open_index(loc)
    _corrupt_version(loc, locations.backend, VERSION)
    with open_index(loc) as index:  # the refusal changed nothing
        assert len(index) == 1 and index.query(seeds["001"])[0].id == "orig"


def test_corrupt_index_is_a_clear_error(locations):
    loc = locations.new()
    if locations.backend == "local":
        import pathlib

        pathlib.Path(loc).mkdir()
        (pathlib.Path(loc) / SQLITE_FILE).write_bytes(b"this is not sqlite" * 100)
    else:
        import redis

        from originality.store import parse_redis_url

        url, prefix = parse_redis_url(loc)
        redis.Redis.from_url(url).set(f"{prefix}:meta", "garbage")
    with pytest.raises(CorruptIndexError):
        open_index(loc)


def test_no_index_means_no_features_and_no_source(seeds):
    ext = OriginalityExtractor().extract(Document.from_text(seeds["001"]))
    assert ext.meta["source"] is None and ext.evidence == []
    assert set(ext.features.values()) == {0.0}


def test_an_unrelated_page_has_no_source(locations, seeds, seed_expectations):
    with open_index(locations.new()) as index:
        index.add([{"id": "orig", "text": _text(seeds, seed_expectations)}])
        other = ("The Eurovision Song Contest final in Basel drew a record audience of 166 "
                 "million viewers, organisers said, as Austria's JJ won with Wasted Love. " * 3)
        ext = OriginalityExtractor(index=index).extract(Document.from_text(other))
        assert ext.meta["source"] is None and ext.features["orig_has_match"] == 0.0


# ---- the command line -------------------------------------------------------------------
def test_cli_index_add_reports_bad_lines_and_keeps_good_ones(locations, seeds, seed_expectations,
                                                            tmp_path):
    from farmscore.commands import index as cmd

    jsonl = tmp_path / "pages.jsonl"
    lines = [
        json.dumps({"id": "orig", "text": _text(seeds, seed_expectations),
                    "url": "https://www.reuters.com/x", "published": "2025-10-25"}),
        "{not json",
        json.dumps({"id": "no-text"}),
        json.dumps({"id": "empty", "text": "  "}),
        json.dumps({"id": "orig", "text": _text(seeds, seed_expectations)}),  # same again
        json.dumps({"id": "spun", "text": seeds["001"]}),
    ]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    cmd.register(parser.add_subparsers())
    loc = locations.new()
    args = parser.parse_args(["index", "add", "--jsonl", str(jsonl), "--index", loc])
    err = io.StringIO()
    assert args.func(args, stderr=err) == 1  # some lines were skipped
    out = err.getvalue()
    assert "line 2: malformed JSON" in out
    assert "line 3:" in out and "no text" in out
    assert "line 4:" in out and "empty" in out
    assert "added 2, skipped duplicates 1, errors 3" in out
    with open_index(loc, create=False) as index:
        assert len(index) == 2
        assert index.query(seeds["001"], page_id="spun")[0].id == "orig"
    # a second run adds nothing and loses nothing
    err = io.StringIO()
    args.func(args, stderr=err)
    assert "added 0, skipped duplicates 3" in err.getvalue()


def test_cli_default_index_location(monkeypatch, tmp_path):
    from farmscore.commands import index as cmd

    monkeypatch.delenv("FARMSCORE_INDEX", raising=False)
    assert cmd.default_index() == "farmscore-index"
    monkeypatch.setenv("FARMSCORE_INDEX", str(tmp_path / "elsewhere"))
    assert cmd.default_index() == str(tmp_path / "elsewhere")


def test_extractor_takes_identity_from_the_document(locations, seeds, seed_expectations):
    """A page that carries its own id never finds itself (nor a later copy) as source."""
    text = _text(seeds, seed_expectations)
    with open_index(locations.new()) as index:
        index.add([{"id": "orig", "text": text}, {"id": "later-copy", "text": text}])
        ext = OriginalityExtractor(index=index)
        doc = Document.from_text(text)
        assert ext.extract(doc, page_id="orig").meta["source"] is None
        assert ext.extract(doc, page_id="later-copy").meta["source"]["id"] == "orig"
        if hasattr(doc, "page_id"):
            doc.page_id = "orig"
            assert ext.extract(doc).meta["source"] is None


def _name_items(text: str) -> set[int]:
    norm = Document.from_text(text).norm
    return set(nnq_items(norm, tokenize(norm)).items.tolist())


def test_heading_lines_and_possessives_give_no_names_of_their_own():
    """A generated rewrite's headings ("Why This Matters") are not facts of the page, and
    "Lumpur's" is the same name as "Lumpur"."""
    body = ("Officials met in Kuala Lumpur on Saturday, said Scott Bessent.\n"
            "The talks at Kuala Lumpur's Merdeka 118 tower ran late.")
    framed = "Executive Summary\n\nWhy This Matters\n\n" + body + "\n\nLeave a Reply\n"
    items = _name_items(framed)
    assert items == _name_items(body)
    for heading_word in ("summary", "matters", "reply"):
        assert word_hash("n:" + heading_word) not in items
    assert word_hash("n:lumpur") in items and word_hash("n:lumpur's") not in items
    # a sentence on a line of its own that ends with a period keeps its names
    assert word_hash("n:bessent") in _name_items("Trump met Bessent and Greer in Geneva.")


def test_preloaded_index_answers_as_the_plain_one(tmp_path, seeds, seed_expectations):
    """Preloading changes where pages are read from, never what a query returns."""
    loc = str(tmp_path / "idx")
    with open_index(loc) as index:
        index.add([{"id": "orig", "text": _text(seeds, seed_expectations)},
                   {"id": "other", "text": seeds["004"]}])
        plain = [(m.id, m.method, m.similarity) for m in index.query(seeds["001"])]
    with open_index(loc, create=False, preload=True) as index:
        assert index.store.db.execute("PRAGMA mmap_size").fetchone()[0] == 0
        assert [(m.id, m.method, m.similarity) for m in index.query(seeds["001"])] == plain
        assert plain and plain[0][0] == "orig"


def test_numbers_tell_a_rewrite_from_another_story_on_the_same_subject(tmp_path):
    """A rewrite keeps its source's numbers even when its words and some names change; a
    report of the next match between the same sides shares the names, not the numbers."""
    preview = ("Scotland face Italy at Murrayfield on Saturday 26 February, kick-off 1400 GMT.\n\n"
               "Coach Matt Williams has lost 7 of his 8 Six Nations games, and Italy won 20-14 "
               "in Rome last year. Williams said Paterson would start at full-back.")
    rewrite = ("At Murrayfield, Scotland host Italy on Saturday 26 February (1400 GMT).\n\n"
               "Williams, who has won one of 8 Six Nations matches and lost 7, saw his side beaten "
               "20-14 by Italy in Rome a year ago. Paterson starts at full-back, Williams said.")
    report = ("Scotland beat Italy 18-10 at Murrayfield thanks to six Paterson penalties.\n\n"
              "Matt Williams saw his side lead 6-3 at the break before Paterson kicked four more "
              "as Italy tired; Williams called it a clinical win in front of 60,000.")
    from originality.matching import score

    src = fingerprint(preview)
    sets = {"shingles": src.shingles, "immutables": src.immutables, "nnq": src.nnq, "pairs": src.pairs,
            "terms": src.terms}
    rw = score(fingerprint(rewrite, keep_positions=True), sets)
    rp = score(fingerprint(report, keep_positions=True), sets)
    assert (rw.numbers, rw.numbers_shared, rw.numbers_in_source) == (6, 6, 1.0)  # 26 1400 7 8 20 14
    assert rp.numbers_shared == 0 and rp.numbers_in_source == 0.0  # 18-10, 6-3, 60,000: its own
    assert rp.facts > 0.3  # ... though it shares the names
    # through the extractor, with the preview indexed
    index = open_index(str(tmp_path / "idx"), create=True)
    index.add([{"id": "preview", "text": preview, "published": "2005-02-24"}])
    feats = OriginalityExtractor(index=index).extract(Document.from_text(rewrite), page_id="rw").features
    index.close()
    assert feats["orig_has_match"] == 1.0 and feats["orig_numbers_in_source"] == 1.0
    assert feats["orig_numbers_shared"] == pytest.approx(math.log1p(6))
    assert feats["orig_source_terms_in_page"] == pytest.approx(rw.source_terms_in_page)
    assert rw.source_terms_in_page > rp.source_terms_in_page  # the rewrite retells more
    none = OriginalityExtractor(index=None).extract(Document.from_text(rewrite)).features
    assert none["orig_numbers_in_source"] == none["orig_numbers_shared"] == 0.0


def test_source_terms_tell_a_retelling_from_a_follow_up(tmp_path):
    """A retelling keeps its source's content words in sentences of its own; a follow-up on
    the same subject shares the names and its background's words, not the rest."""
    from originality.fingerprints import term_hashes, term_stem
    from originality.matching import score

    source = ("Officials from both countries met in Kuala Lumpur to ease escalating trade tensions. "
              "Washington threatened tariffs on goods after Beijing tightened export controls on "
              "magnets and minerals. The meeting venue, a skyscraper, was confirmed only when the "
              "delegations began arriving; negotiators hope to revive a fragile truce.")
    retold = ("Trade tensions were escalating when officials of the two countries met in Kuala "
              "Lumpur. Beijing had tightened its export controls on minerals and magnets, and "
              "Washington answered with threatened tariffs on its goods. Delegations arriving at "
              "the skyscraper confirmed the venue; the negotiators hope the fragile truce revives.")
    follow_up = ("Officials from both countries signed a grain agreement in Kuala Lumpur on Monday. "
                 "Farmers welcomed the purchases, which analysts called modest, while shipping "
                 "companies expect busier ports before the harvest ends.")
    assert term_stem("tariffs") == term_stem("tariff") and term_stem("threatened") == term_stem("threatens")
    terms = term_hashes("the officials said that tariffs on magnets".split())
    assert len(terms) == 3 and list(terms) == sorted(terms)  # officials, tariffs, magnets
    src = fingerprint(source)
    sets = {"shingles": src.shingles, "immutables": src.immutables, "nnq": src.nnq,
            "pairs": src.pairs, "terms": src.terms}
    retelling = score(fingerprint(retold, keep_positions=True), sets)
    other = score(fingerprint(follow_up, keep_positions=True), sets)
    assert retelling.shingle_in_source < 0.2  # hardly a 5-word run in common
    assert retelling.source_terms_in_page >= 0.8
    assert other.source_terms_in_page <= 0.3
    # the terms are stored with the other sets (index version 3) and read back unchanged
    from originality.fingerprints import pack_sets, unpack_sets

    back = unpack_sets(pack_sets(src))
    assert np.array_equal(back["terms"], src.terms) and np.array_equal(back["pairs"], src.pairs)
    with pytest.raises(ValueError):
        unpack_sets(pack_sets(src)[:-4])


@pytest.mark.parametrize("crlf", [False, True])
def test_copied_from_source_evidence_is_cut_to_300_characters(tmp_path, seeds, seed_expectations,
                                                              crlf):
    """The README's contract for every evidence span: ``text`` is the span's text, cut to
    300 characters (seed 000 copies its source whole, so its matched passages are longer);
    with CRLF line ends the offsets are mapped back to the input and the cut still holds."""
    from scoring.score import build_scorer

    index = open_index(str(tmp_path / "idx"), create=True)
    index.add([{"id": "src", "text": first_copy(seeds, seed_expectations)}])
    text = seeds["000"].replace("\n", "\r\n") if crlf else seeds["000"]
    rec = build_scorer(index=index).score(text, "000")
    index.close()
    spans = [e for e in rec["evidence"] if e["signal"] == "copied_from_source"]
    assert spans and max(e["end"] - e["start"] for e in spans) > 300
    for e in spans:
        assert e["text"] == text[e["start"]:e["end"]][:300]
    assert all(len(m["text"]) <= 300 for m in rec["source"]["matched"])
