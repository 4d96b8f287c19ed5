"""Crawl-scale originality in Spark: no process holds the whole index.

The stored corpus (Parquet of earlier crawls) becomes one row per page with the very
fingerprints and posting keys the local index stores (:func:`corpus_fingerprints`; the
same ``originality.fingerprints`` and ``PostingKeys`` code, so the same keys). Then, in
Spark:

1. the batch's pages get their posting keys (``mapInArrow``), exploded with their
   position in the page's key list;
2. the corpus's posting lists are exploded, and keys held by more than ``max_postings``
   pages are dropped, as the index's store drops them (a key "of the U.S. and the" shares
   tells nothing);
3. the two are joined on the key; per batch page the hits are gathered and
   :func:`originality.index.choose_candidates`, the index's own selection, picks at most
   ``max_candidates`` candidate pages;
4. the candidates' stored fingerprints are joined back to the page, and the scorer's
   originality extractor verifies them with :func:`originality.index.rank_matches`
   through a :class:`JoinedIndex`: the same exact scores, thresholds and "earliest is the
   source" rule as a query of the local index.

Candidate order inside a page's posting lists can differ from the local store's only in
ties beyond ``max_candidates``, which is why the test asks for the same source on at
least 99 % of pages rather than all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from farmscore.batch.records import INPUT_COLUMNS, Row, check_row, parse_jsonl_line

#: Spark DDL of a fingerprinted corpus (what :func:`corpus_fingerprints` writes).
CORPUS_DDL = ("seq bigint, id string, url string, published string, text_hash binary, "
              "n_words bigint, fp binary, keys array<bigint>")
_CAND_FIELDS = ("seq", "id", "url", "published", "text_hash", "n_words", "fp")


@dataclass(frozen=True, slots=True)
class DedupParams:
    """The local index's defaults (``originality.index.Index``): keys and candidates."""

    num_perm: int = 64
    lsh_threshold: float = 0.4
    sample_mod: int = 8
    max_postings: int = 300
    max_candidates: int = 40
    min_votes: int = 2


_KEYS: dict[DedupParams, object] = {}


def posting_keys(params: DedupParams):
    """This process's :class:`originality.index.PostingKeys` (built once)."""
    k = _KEYS.get(params)
    if k is None:
        from originality.index import PostingKeys

        k = _KEYS[params] = PostingKeys(params.num_perm, params.lsh_threshold, params.sample_mod)
    return k


# ---- the stored corpus --------------------------------------------------------------------
def _corpus_partition(params: DedupParams, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Fingerprints and keys of corpus pages; pages the index would refuse are left out."""
    from originality.errors import InvalidPageError
    from originality.fingerprints import fingerprint, pack_sets
    from originality.index import validate_page

    keys = posting_keys(params)
    for batch in batches:
        cols = {c: batch.column(c).to_pylist() for c in batch.schema.names}
        out: dict[str, list] = {c: [] for c in ("seq", "id", "url", "published", "text_hash",
                                                 "n_words", "fp", "keys")}
        for i in range(batch.num_rows):
            rec = {c: cols[c][i] for c in ("id", "text", "url", "published") if c in cols}
            if "published" in rec and rec["published"] is not None and not isinstance(rec["published"], str):
                rec["published"] = rec["published"].isoformat()
            try:
                pid, doc, url, pub = validate_page(rec)
            except InvalidPageError:
                continue
            fp = fingerprint(doc.norm)
            for name, v in (("seq", cols["_seq"][i]), ("id", pid), ("url", url), ("published", pub),
                            ("text_hash", fp.text_hash), ("n_words", fp.n_words),
                            ("fp", pack_sets(fp)), ("keys", keys.keys(fp))):
                out[name].append(v)
        yield pa.RecordBatch.from_pydict(out, schema=_corpus_arrow_schema())


def _corpus_arrow_schema() -> pa.Schema:
    return pa.schema([("seq", pa.int64()), ("id", pa.string()), ("url", pa.string()),
                      ("published", pa.string()), ("text_hash", pa.binary()),
                      ("n_words", pa.int64()), ("fp", pa.binary()), ("keys", pa.list_(pa.int64()))])


def corpus_fingerprints(spark, pages, params: DedupParams = DedupParams()):
    """A corpus DataFrame of pages (``id``, ``text``, ``url``?, ``published``?, ``seq``?)
    as fingerprint rows (:data:`CORPUS_DDL`), one per id.

    ``seq`` orders pages added on the same date, as the index's order of adding does; without
    a ``seq`` column it is the order Spark reads the pages in. An id seen twice keeps its
    first page (the index refuses to replace an indexed page).
    """
    from functools import partial

    from pyspark.sql import Window
    from pyspark.sql import functions as F

    cols = [c for c in ("id", "text", "url", "published") if c in pages.columns]
    seq = F.col("seq").cast("long") if "seq" in pages.columns else F.monotonically_increasing_id() + 1
    df = pages.select(*cols, seq.alias("_seq"))
    fps = df.mapInArrow(partial(_corpus_partition, params), CORPUS_DDL)
    first = Window.partitionBy("id").orderBy("seq")
    return fps.withColumn("_n", F.row_number().over(first)).where("_n = 1").drop("_n")


def load_corpus(spark, path: str, params: DedupParams = DedupParams()):
    """A stored corpus: a fingerprinted one (has ``fp`` and ``keys``) as it is, else pages
    fingerprinted now."""
    df = spark.read.parquet(path)
    if {"fp", "keys", "seq"} <= set(df.columns):
        return df.select(*[c.split(" ")[0] for c in CORPUS_DDL.split(", ")])
    return corpus_fingerprints(spark, df, params)


def write_corpus(spark, in_path: str, out_path: str, params: DedupParams = DedupParams()) -> None:
    """Fingerprint a corpus of pages once and store it, for later batches to join."""
    corpus_fingerprints(spark, spark.read.parquet(in_path), params).write.mode("overwrite").parquet(out_path)


# ---- the batch's keys, the join and the candidates ----------------------------------------
def _row_of(values: dict) -> Row | None:
    if "value" in values and not any(c in values for c in INPUT_COLUMNS):
        return parse_jsonl_line(values["value"])
    return check_row(values)


def _batch_keys(params: DedupParams, max_chars: int | None,
                batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Input rows passed through, with the page's checked id (``_id``) and posting keys
    (``_keys``, empty for a row that will be refused)."""
    from features.document import DEFAULT_MAX_CHARS, Document
    from farmscore.batch.records import _text_of
    from originality.fingerprints import fingerprint

    keys = posting_keys(params)
    for batch in batches:
        names = [n for n in batch.schema.names if n != "_pos"]
        cols = {n: batch.column(n).to_pylist() for n in names}
        ids, all_keys = [], []
        for i in range(batch.num_rows):
            row = _row_of({n: cols[n][i] for n in names})
            k: list[int] = []
            if row is not None and row.error is None:
                try:
                    doc = Document.from_text(_text_of(None, row), max_chars=max_chars or DEFAULT_MAX_CHARS)
                    k = keys.keys(fingerprint(doc))
                except Exception:  # noqa: BLE001 - refused or broken: the scorer reports it
                    k = []
            ids.append(row.id if row is not None else None)
            all_keys.append(k)
        arrays = [batch.column(n) for n in batch.schema.names] + [
            pa.array(ids, pa.string()), pa.array(all_keys, pa.list_(pa.int64()))]
        yield pa.RecordBatch.from_arrays(arrays, names=[*batch.schema.names, "_id", "_keys"])


def _choose(params: DedupParams, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Per batch page, its gathered hits -> the candidate seqs (one output row each)."""
    from originality.index import choose_candidates

    for batch in batches:
        pos = batch.column("_pos").to_pylist()
        hits = batch.column("hits").to_pylist()
        own = batch.column("own_seq").to_pylist()
        out_pos, out_seq = [], []
        for p, h, o in zip(pos, hits, own):
            h.sort(key=lambda x: (x["kpos"], x["seq"]))  # the page's key order, seqs ascending
            post: dict[int, list[int]] = {}
            for x in h:
                post.setdefault(x["key"], []).append(x["seq"])
            chosen = choose_candidates(post, {o} if o is not None else set(),
                                       params.max_candidates, params.min_votes)
            out_pos += [p] * len(chosen)
            out_seq += chosen
        yield pa.RecordBatch.from_pydict({"_pos": pa.array(out_pos, pa.int64()),
                                          "seq": pa.array(out_seq, pa.int64())})


def attach_candidates(spark, df, corpus, max_chars: int | None = None,
                      params: DedupParams = DedupParams()):
    """``df`` (input rows) with, per row, its originality candidates from ``corpus``
    (``_cands``: stored fingerprints), and its own place in the corpus if it is there
    (``_own_seq``, ``_own_pub``); in input order."""
    from functools import partial

    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    corpus = corpus.persist(StorageLevel.MEMORY_AND_DISK)
    in_cols = df.columns
    pos_ddl = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in df.schema.fields)
    keyed = (df.withColumn("_pos", F.monotonically_increasing_id())
             .mapInArrow(partial(_batch_keys, params, max_chars),
                         f"{pos_ddl}, _pos bigint, _id string, _keys array<bigint>")
             .persist(StorageLevel.MEMORY_AND_DISK))
    own = (keyed.select("_pos", "_id").where("_id is not null")
           .join(corpus.select(F.col("id").alias("_id"), F.col("seq").alias("own_seq"),
                               F.col("published").alias("own_pub")), "_id")
           .select("_pos", "own_seq", "own_pub"))
    postings = corpus.select("seq", F.explode("keys").alias("key"))
    common = postings.groupBy("key").count().where(F.col("count") > params.max_postings).select("key")
    postings = postings.join(common, "key", "left_anti")
    hits = (keyed.select("_pos", F.posexplode("_keys").alias("kpos", "key"))
            .join(postings, "key")
            .groupBy("_pos").agg(F.collect_list(F.struct("kpos", "key", "seq")).alias("hits"))
            .join(own.select("_pos", "own_seq"), "_pos", "left"))
    chosen = hits.mapInArrow(partial(_choose, params), "_pos bigint, seq bigint")
    cands = (chosen.join(corpus.select(*_CAND_FIELDS), "seq")
             .groupBy("_pos").agg(F.collect_list(F.struct(*_CAND_FIELDS)).alias("_cands")))
    return (keyed.select(*in_cols, "_pos")
            .join(cands, "_pos", "left").join(own, "_pos", "left")
            .orderBy("_pos").drop("_pos")
            .withColumnRenamed("own_seq", "_own_seq").withColumnRenamed("own_pub", "_own_pub"))


# ---- the scorer's side -------------------------------------------------------------------
class JoinedIndex:
    """An originality "index" that knows only the current page's joined candidates.

    The originality extractor calls :meth:`query` as it calls ``Index.query``; the answer is
    :func:`originality.index.rank_matches` over the candidates the join found, so the
    verification, the thresholds and the choice of the source are the index's own code.
    """

    def __init__(self) -> None:
        from originality.provenance import DerivationModel

        self.derivation = DerivationModel.load()  # once per worker, as the index loads it
        self.set(None, None, [])

    def set(self, own_seq: int | None, own_pub: str | None, rows: list) -> None:
        """The page about to be scored: its place in the corpus, and its candidates."""
        self._own_seq, self._own_pub, self._rows = own_seq, own_pub, rows

    def query(self, doc, page_id: str | None = None, published: str | None = None,
              thresholds=None, limit: int = 10) -> list:
        from originality.fingerprints import fingerprint
        from originality.index import _normalise_date, rank_matches
        from originality.matching import Thresholds

        fp = fingerprint(doc, keep_positions=True)
        own_pub = _normalise_date(published) if published else None
        if self._own_seq is not None:
            own_pub = own_pub or self._own_pub
        return rank_matches(doc, fp, self._rows, page_id, self._own_seq, own_pub,
                            thresholds or Thresholds(), limit, self.derivation)

    def close(self) -> None:
        pass


def joined_rows(scorer, batch: pa.RecordBatch):
    """Rows of a batch from :func:`attach_candidates`, and the ``before_page`` hook that
    hands each page's candidates to the scorer's :class:`JoinedIndex`."""
    from originality.store import PageRow

    names = [n for n in batch.schema.names if not n.startswith("_")]
    cols = {n: batch.column(n).to_pylist() for n in names}
    cands = batch.column("_cands").to_pylist()
    own_seq = batch.column("_own_seq").to_pylist()
    own_pub = batch.column("_own_pub").to_pylist()
    rows, extra = [], []
    for i in range(batch.num_rows):
        row = _row_of({n: cols[n][i] for n in names})
        if row is None:
            continue
        rows.append(row)
        extra.append(i)
    index = next(ex.index for ex in scorer.pipeline._extractors() if hasattr(ex, "index"))

    def before(k: int, _row: Row) -> None:
        i = extra[k]
        pages = [PageRow(c["seq"], c["id"], c["url"], c["published"], bytes(c["text_hash"]),
                         c["n_words"], bytes(c["fp"])) for c in (cands[i] or ())]
        index.set(own_seq[i], own_pub[i], pages)

    return rows, before
