"""``farmscore batch``: the local engine, the Spark engine in local[2] (for real), and the
crawl-scale originality join.

One SparkSession for the module (starting Spark and its Python workers costs seconds);
every Spark test compares Spark's output with the local engine's or the local index's on
the same input: identical records, the same sources.
"""

from __future__ import annotations

import json
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from farmscore.batch.local import run_local
from farmscore.batch.records import OUTPUT_SCHEMA
from farmscore.cli import main
from scoring.score import build_scorer

BAD_ROWS = [
    {"id": "bad-empty", "text": "   \n "},
    {"id": None, "text": "A page without an id is refused, not dropped."},
    {"id": "bad-script-only", "html": "<html><head><title>t</title></head><body><script>var x = 1;</script></body></html>"},
    {"id": "bad-date", "text": "Officials met on Tuesday to talk about trade.", "published": "last Tuesday"},
    {"id": "bad-binary", "text": "\x00\x01\x02\x03\x04\x05\x06" * 40},
    {"id": "bad-nothing"},
    {"id": "bad-huge", "text": "word " * 210_000},
]


def _farm(text: str, rng: random.Random, kit) -> tuple[str, str]:
    """A farm page of ``text`` by one or two of the simulator's techniques."""
    from training import simulator as sim

    names = rng.sample(["copy", "spun", "pasted_twice", "clickbait_tail", "disclaimer",
                        "comment_form", "template_frame", "paraphrase"], rng.choice([1, 2]))
    for name in sim.ORDER:
        if name in names:
            text = sim.TECHNIQUE_FUNCS[name](text, rng, kit)
    return "+".join(sorted(names)), text


@pytest.fixture(scope="module")
def kit(shared_data):
    from training.corpus import clickbait_headlines, mrpc_sentences
    from training.simulator import Kit

    bait, normal = clickbait_headlines()
    return Kit.build("test", bait[:400] + normal[:400], mrpc_sentences("test"))


@pytest.fixture(scope="module")
def bbc(shared_data):
    from training.corpus import bbc_articles

    return bbc_articles()


@pytest.fixture(scope="module")
def pages200(seeds, bbc, kit, shared_data):
    """>= 200 pages: the seeds, clean BBC and Reuters originals, farms of BBC originals
    (copies, spins, pastes, tails, disclaimers, comment forms, frames), HTML, bad rows."""
    from training.corpus import reuters_articles

    rng = random.Random(16)
    rows = [{"id": f"seed-{k}", "text": t, "url": f"https://seed.example/{k}"} for k, t in seeds.items()]
    rows += [{"id": f"bbc-{a.id}", "text": a.text, "published": "2025-03-01"} for a in bbc[:60]]
    reu = list(reuters_articles(min_words=150))[:40]
    rows += [{"id": f"reuters-{a.id}", "text": a.text} for a in reu]
    for i, a in enumerate(bbc[60:180]):
        how, text = _farm(a.text, rng, kit)
        rows.append({"id": f"farm-{i}-{how}", "text": text, "published": "2026-01-02"})
    for a in bbc[180:190]:
        paras = "".join(f"<p>{p}</p>" for p in a.body.split("\n\n"))
        rows.append({"id": f"html-{a.id}", "html": f"<html><body><h1>{a.title}</h1>{paras}"
                                                   f"<ul><li>You may also like</li><li>Ten things</li></ul></body></html>"})
    rows += BAD_ROWS
    assert len(rows) >= 200
    return rows


def _write_parquet(rows: list[dict], path) -> str:
    cols = ["id", "text", "html", "url", "published"]
    table = pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in cols})
    pq.write_table(table, path)
    return str(path)


def _read(path) -> list[dict]:
    return pq.read_table(str(path)).to_pylist()


@pytest.fixture(scope="module")
def scorer():
    return build_scorer()


@pytest.fixture(scope="module")
def local200(tmp_path_factory, pages200, scorer):
    d = tmp_path_factory.mktemp("b200")
    src = _write_parquet(pages200, d / "pages.parquet")
    out = d / "local.parquet"
    run_local(scorer, src, str(out), progress=False)
    return src, _read(out)


# ---- the local engine --------------------------------------------------------------------
def test_local_records_are_farmscore_score_records(local200, pages200, scorer):
    """Every row in, one record out, in order; a scored row is exactly what
    ``Scorer.score`` returns for its text (the `farmscore score` record); bad rows carry
    their error in their place."""
    _, recs = local200
    assert [r["id"] for r in recs] == [p.get("id") for p in pages200]
    by_id = {p["id"]: p for p in pages200 if p.get("id")}
    for rec in recs:
        page = by_id.get(rec["id"])
        if page is None or "text" not in page or page["id"].startswith("bad-"):
            continue
        want = scorer.score(page["text"], page["id"])
        assert rec["originality"] == want["originality"] and rec["quality"] == want["quality"]
        assert rec["verdict"] == want["verdict"]
        assert dict(rec["signals"]) == want["signals"]
        assert rec["evidence"] == want["evidence"]
        assert rec["model"] == want["model"]
        assert rec["error"] is None
    errors = {r["id"]: r["error"]["code"] for r in recs if r["error"] is not None}
    assert errors == {"bad-empty": "empty", None: "field", "bad-script-only": "empty",
                      "bad-date": "field", "bad-binary": "binary", "bad-nothing": "field",
                      "bad-huge": "too_large"}
    verdicts = {r["id"]: r["verdict"] for r in recs}
    assert verdicts["seed-000"] == "farm" and verdicts["seed-004"] == "ok"
    assert sum(v == "farm" for k, v in verdicts.items() if k and k.startswith("farm-")) >= 80


def test_cli_batch_jsonl_keeps_every_line(tmp_path, seeds):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": "s4", "text": seeds["004"]}), "{not json", "",
             json.dumps({"id": 7, "text": seeds["001"]}), json.dumps(["a list"])]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    assert main(["batch", str(src), str(out), "--no-progress"]) == 1  # some rows refused
    recs = _read(out)
    assert pq.read_schema(str(out)).equals(OUTPUT_SCHEMA)
    assert [(r["id"], (r["error"] or {}).get("code")) for r in recs] == \
        [("s4", None), (None, "json"), ("7", None), (None, "type")]
    # seed 001 (spun, no source indexed) is flagged: "suspect" since model 1.10.0
    assert recs[0]["verdict"] == "ok" and recs[2]["verdict"] in ("farm", "suspect")


def test_cli_batch_refuses_a_corpus_without_spark(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "Some page."}\n', encoding="utf-8")
    assert main(["batch", str(src), str(tmp_path / "o.parquet"), "--corpus", str(src)]) == 2
    assert main(["batch", str(tmp_path / "missing.jsonl"), str(tmp_path / "o.parquet")]) == 2


# ---- Spark --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark")
    from farmscore.batch.spark import make_session

    log = tmp_path_factory.mktemp("spark") / "loads.txt"
    os.environ["FARMSCORE_BATCH_LOAD_LOG"] = str(log)  # Python workers inherit it
    session = make_session("local[2]", "farmscore-tests",
                           {"spark.sql.shuffle.partitions": "4",
                            "spark.ui.showConsoleProgress": "false"})
    session.load_log = log
    yield session
    session.stop()
    os.environ.pop("FARMSCORE_BATCH_LOAD_LOG", None)


def test_spark_scores_as_the_local_engine(spark, local200, tmp_path):
    """Spark local[2] gives exactly the local engine's records (scores to every decimal,
    evidence, errors), and built the scorer once per Python worker, never per row."""
    from farmscore.batch.spark import ScorerConfig, run_spark

    src, local = local200
    out = tmp_path / "spark"
    df_parts = spark.read.parquet(src).rdd.getNumPartitions()
    run_spark(spark, src, str(out), ScorerConfig(), "parquet")
    got = _read(out)
    assert len(got) == len(local)
    by_id = {r["id"]: r for r in got}
    assert len(by_id) == len(got)
    for rec in local:
        other = by_id[rec["id"]]
        assert other == rec, rec["id"]
        if rec["originality"] is not None:
            assert round(other["originality"], 4) == round(rec["originality"], 4)
    pids = spark.load_log.read_text().split()
    assert pids and len(pids) == len(set(pids))  # one scorer per worker process
    assert len(pids) <= max(2, df_parts) < len(got)


@pytest.fixture(scope="module")
def corpus_rows(bbc):
    """Earlier crawls: BBC originals with dates; some farms above are made from them."""
    return [{"id": f"corpus-{a.id}", "text": a.text, "url": f"https://bbc.example/{a.id}",
             "published": f"2005-{1 + i % 12:02d}-{1 + i % 28:02d}", "seq": i + 1}
            for i, a in enumerate(bbc[50:400])]


def _corpus_parquet(rows: list[dict], path) -> str:
    table = pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows],
                      "url": [r["url"] for r in rows], "published": [r["published"] for r in rows],
                      "seq": pa.array([r["seq"] for r in rows], pa.int64())})
    pq.write_table(table, path)
    return str(path)


def _local_index(rows: list[dict], path):
    from originality import open_index

    index = open_index(str(path), create=True)
    index.add([{k: r[k] for k in ("id", "text", "url", "published")} for r in rows])
    return index


def test_spark_corpus_join_scores_as_the_local_index(spark, pages200, corpus_rows, tmp_path):
    """With a stored corpus joined in Spark, every record (scores, originality evidence,
    the named source) equals the local engine's with an index of the same pages."""
    from farmscore.batch.spark import ScorerConfig, run_spark

    src = _write_parquet(pages200, tmp_path / "pages.parquet")
    corpus = _corpus_parquet(corpus_rows, tmp_path / "corpus.parquet")
    index = _local_index(corpus_rows, tmp_path / "idx")
    local_out = tmp_path / "local.parquet"
    run_local(build_scorer(index=index), src, str(local_out), progress=False)
    index.close()
    local = _read(local_out)
    out = tmp_path / "spark"
    run_spark(spark, src, str(out), ScorerConfig(joined=True), "parquet", corpus=corpus)
    got = _read(out)
    assert [r["id"] for r in got] == [r["id"] for r in local]  # input order kept
    assert got == local
    sourced = [r for r in local if r["source"] is not None]
    assert len(sourced) >= 40  # the copies, spins and pastes of corpus pages
    assert all(r["source"]["id"].startswith("corpus-") for r in sourced)


def test_spark_dedup_names_the_local_index_sources(spark, bbc, kit, tmp_path):
    """A few thousand pages against a stored corpus: the Spark join names the same source
    as the local index's query for >= 99 % of pages (and of the pages with a source)."""
    from farmscore.batch.dedup import write_corpus
    from farmscore.batch.spark import ScorerConfig, run_spark
    from features.document import Document
    from training.corpus import reuters_articles

    rng = random.Random(1616)
    corpus_rows = [{"id": f"c-{a.id}", "text": a.text, "url": None,
                    "published": None if i % 5 == 0 else f"2005-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    "seq": i + 1} for i, a in enumerate(bbc[:1500])]
    batch = []
    for i, a in enumerate(bbc[:1200]):
        how, text = _farm(a.text, rng, kit)
        batch.append({"id": f"f-{i}-{how}", "text": text, "published": "2026-01-02"})
    batch += [{"id": f"new-{a.id}", "text": a.text} for a in bbc[1500:1900]]
    batch += [{"id": f"r-{a.id}", "text": a.text}
              for a in list(reuters_articles(min_words=150))[:400]]
    batch += [{"id": r["id"], "text": r["text"], "published": r["published"]}
              for r in corpus_rows[:40]]  # pages of the corpus itself: never their own source
    assert len(batch) >= 2000
    src = _write_parquet(batch, tmp_path / "batch.parquet")
    raw = _corpus_parquet(corpus_rows, tmp_path / "corpus-pages.parquet")
    fps = tmp_path / "corpus-fp"
    write_corpus(spark, raw, str(fps))  # fingerprinted once, joined from storage
    out = tmp_path / "spark"
    run_spark(spark, src, str(out), ScorerConfig(joined=True), "parquet", corpus=str(fps))
    spark_src = {r["id"]: (r["source"] or {}).get("id") for r in _read(out)}

    index = _local_index(corpus_rows, tmp_path / "idx")
    local_src = {}
    for p in batch:
        m = index.query(Document.from_text(p["text"]), page_id=p["id"], published=p.get("published"))
        local_src[p["id"]] = m[0].id if m else None
    index.close()
    same = sum(spark_src[k] == v for k, v in local_src.items())
    with_source = [k for k, v in local_src.items() if v is not None]
    same_sourced = sum(spark_src[k] == local_src[k] for k in with_source)
    print(f"dedup: same source {same}/{len(batch)}, among pages with a source "
          f"{same_sourced}/{len(with_source)}")  # shown by pytest -s
    assert len(with_source) >= 800
    assert same >= 0.99 * len(batch), (same, len(batch))
    assert same_sourced >= 0.99 * len(with_source), (same_sourced, len(with_source))
    assert all(spark_src[r["id"]] != r["id"] for r in corpus_rows[:40])
