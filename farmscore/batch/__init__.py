"""Batch scoring of crawls: Parquet or JSONL in, Parquet out (``farmscore batch``).

* :mod:`farmscore.batch.records`: input rows -> scored records -> Arrow, shared by both
  engines so that the same row gives the same record on either;
* :mod:`farmscore.batch.local`: one process, a tqdm progress bar;
* :mod:`farmscore.batch.spark`: Apache Spark, the scorer in ``mapInArrow`` loaded once per
  Python worker;
* :mod:`farmscore.batch.dedup`: crawl-scale originality, the batch's posting keys joined
  with a stored corpus's in Spark, candidates verified by ``originality``'s own code.
"""
