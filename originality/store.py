"""Where an index lives: the same small storage contract on SQLite files and on Redis.

The matching logic (``originality.index``) only needs five things from storage: metadata
(format and parameters, checked on open), a sequence number per page (the order pages were
added, which decides "earliest" when dates are unknown), page records with their packed
fingerprints, posting lists (key -> page seqs) for LSH bands and sampled hashes, and an
atomic batch write. Keeping the contract this small is what lets one test suite run
unchanged against both backends.

SQLite layout (``<dir>/index.sqlite3``, WAL mode)::

    meta(k TEXT PRIMARY KEY, v TEXT)
    pages(seq INTEGER PRIMARY KEY, id TEXT UNIQUE, url, published, text_hash BLOB,
          n_words INTEGER, fp BLOB)
    post(key INTEGER, seq INTEGER, PRIMARY KEY (key, seq)) WITHOUT ROWID

Redis layout (``prefix`` from the URL, default ``farmscore:idx``)::

    {p}:meta   hash   format, version, params
    {p}:seq    string last sequence number (INCR, inside the atomic write script)
    {p}:ids    hash   page id -> seq
    {p}:pg:N   hash   id, url, published, th, nw, fp
    {p}:k:KEY  set    seqs (small integer sets: Redis stores them as compact intsets)
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

from originality.errors import CorruptIndexError, IndexNotFoundError

SQLITE_FILE = "index.sqlite3"
MMAP_BYTES = 1 << 40  # address space only: pages are mapped as they are read
#: The seqs of each key of the JSON list ``?1`` that has at most ``?2`` of them,
#: comma-joined (NULL: no postings). A longer list is only stepped over (is there a
#: seq at offset ``?2``?), never joined into a string that would be thrown away.
_POSTINGS_SQL = """SELECT k.value, (SELECT group_concat(seq) FROM
    (SELECT seq FROM post WHERE post.key = k.value ORDER BY seq LIMIT ?2))
    FROM json_each(?1) AS k
    WHERE (SELECT seq FROM post WHERE post.key = k.value ORDER BY seq LIMIT 1 OFFSET ?2)
    IS NULL"""
DEFAULT_REDIS_PREFIX = "farmscore:idx"
#: Index files up to this size get SQLite's ``quick_check`` when opened (~1 s per GB);
#: larger ones are checked on their first read error. ``$FARMSCORE_INDEX_CHECK_BYTES``.
INTEGRITY_CHECK_MAX_BYTES = int(os.environ.get("FARMSCORE_INDEX_CHECK_BYTES", 1 << 30))
#: Index files found corrupt in this process (resolved path -> reason): opened again, they
#: fail at once, so a readiness probe sees what a failed query found.
_KNOWN_CORRUPT: dict[str, str] = {}


@dataclass(slots=True)
class PageRow:
    """One indexed page as stored (fingerprints packed into ``fp``)."""

    seq: int
    id: str
    url: str | None
    published: str | None
    text_hash: bytes
    n_words: int
    fp: bytes


class SQLiteStore:
    """An index in one SQLite file: reopens instantly, B-tree lookups, atomic batches."""

    def __init__(self, path: str | os.PathLike, create: bool = True, preload: bool = False):
        self.path = Path(path)
        file = self.path / SQLITE_FILE
        if self.path.exists() and not self.path.is_dir():
            raise CorruptIndexError(f"{self.path} is a file, not an index directory")
        if not file.exists():
            if not create:
                raise IndexNotFoundError(f"no index at {self.path} (expected {SQLITE_FILE})")
            self.path.mkdir(parents=True, exist_ok=True)
        self.file = file
        existed = file.exists()
        if existed:
            known = _KNOWN_CORRUPT.get(str(file.resolve()))
            if known:
                raise CorruptIndexError(known)
            if not create and file.stat().st_size == 0:
                raise CorruptIndexError(f"{file} is empty (0 bytes): not an index; rebuild it "
                                        "with `farmscore index add` or remove the file")
        try:
            self.db = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA cache_size=-262144")  # 256 MB page cache
            # reads straight from the OS page cache, no copy into SQLite's own cache
            self.db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if existed and file.stat().st_size <= INTEGRITY_CHECK_MAX_BYTES:
                self.check_integrity()
            if preload:
                self.preload()
        except sqlite3.DatabaseError as exc:
            self.db.close() if hasattr(self, "db") else None
            raise CorruptIndexError(f"{file} is not a readable index: {exc}") from None
        except CorruptIndexError:
            self.db.close()
            raise

    def check_integrity(self) -> None:
        """SQLite's ``quick_check`` (every page and B-tree, not index contents); a corrupt
        file raises :class:`CorruptIndexError` and is remembered as corrupt."""
        try:
            rows = [r[0] for r in self.db.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):  # closed, locked, ...: not the file's fault
                raise
            rows = [str(exc)]
        if rows != ["ok"]:
            self._mark_corrupt("; ".join(rows)[:300])

    def _mark_corrupt(self, why: str):
        reason = (f"{self.file} is corrupt ({why}); rebuild the index with `farmscore index "
                  "add` into a new location")
        _KNOWN_CORRUPT[str(self.file.resolve())] = reason
        raise CorruptIndexError(reason)

    def _failed(self, exc: sqlite3.DatabaseError):
        """A read failed: check the file, so the error says whether it is corrupt. Errors
        that say nothing about the file (a closed connection, a lock) pass through."""
        if not _is_corruption(exc):
            raise exc
        try:
            self.check_integrity()
        except CorruptIndexError:
            raise
        raise CorruptIndexError(f"{self.file}: database error ({exc}); the file passed its "
                                "integrity check") from None

    def preload(self) -> None:
        """Read the whole index into this connection's own page cache, once.

        Why: a query reads ~90 posting pages and ~18 page rows from random places in the
        file. Left to the OS page cache, those pages are reclaimed whenever the machine
        wants memory (this VM's kernel reclaims cold file pages even with memory free), and
        the query's tail becomes disk reads: p99 14-19 ms at 1M pages against 4-5 ms p50.
        SQLite's own cache is process memory the kernel cannot reclaim without swap.
        Costs as much memory as the file (plus ~12 %) per process, and a full read at open.
        """
        size_kb = self.file.stat().st_size // 1024  # the connection above created the file
        self.db.execute(f"PRAGMA cache_size=-{int(size_kb * 1.15) + 65536}")
        self.db.execute("PRAGMA mmap_size=0")  # mapped pages would bypass the cache
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "post" in tables:
            self.db.execute("SELECT count(*) FROM post").fetchone()  # every leaf of the B-tree
        if "pages" in tables:
            # the rows and their overflow pages (a fingerprint spans several), and the id index
            self.db.execute("SELECT count(*) FROM pages WHERE substr(fp, -1) IS NOT NULL").fetchone()
            self.db.execute("SELECT count(*) FROM (SELECT id FROM pages ORDER BY id)").fetchone()

    # ---- metadata -------------------------------------------------------------------
    def read_meta(self) -> dict | None:
        try:
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return None
            if "meta" not in tables:
                raise CorruptIndexError(f"{self.file} is an SQLite file but not an index")
            return {k: v for k, v in self.db.execute("SELECT k, v FROM meta")}
        except sqlite3.DatabaseError as exc:
            raise CorruptIndexError(f"{self.file} is not a readable index: {exc}") from None

    def init(self, meta: dict) -> None:
        with self._tx() as db:
            db.execute("CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT)")
            db.execute("CREATE TABLE pages(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
                       " url TEXT, published TEXT, text_hash BLOB NOT NULL,"
                       " n_words INTEGER NOT NULL, fp BLOB NOT NULL)")
            db.execute("CREATE TABLE post(key INTEGER NOT NULL, seq INTEGER NOT NULL,"
                       " PRIMARY KEY (key, seq)) WITHOUT ROWID")
            db.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))

    # ---- reads ----------------------------------------------------------------------
    def count(self) -> int:
        try:
            return self.db.execute("SELECT count(*) FROM pages").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self._failed(exc)

    def lookup_ids(self, ids: list[str]) -> dict[str, tuple[int, bytes]]:
        try:
            return self._lookup_ids(ids)
        except sqlite3.DatabaseError as exc:
            self._failed(exc)

    def _lookup_ids(self, ids: list[str]) -> dict[str, tuple[int, bytes]]:
        out: dict[str, tuple[int, bytes]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            q = f"SELECT id, seq, text_hash FROM pages WHERE id IN ({','.join('?' * len(chunk))})"
            out.update({r[0]: (r[1], bytes(r[2])) for r in self.db.execute(q, chunk)})
        return out

    def postings(self, keys: list[int], cap: int) -> dict[int, list[int]]:
        """Seqs under each key; keys with more than ``cap`` postings are left out.

        One statement for all keys (a query has ~80): each key costs two B-tree descents
        that step over at most ``cap + 1`` seqs, so a stop key ("of the U.S. and the")
        costs no more than a rare one, and no per-key round trip through Python.
        """
        out = {}
        try:
            for key, seqs in self.db.execute(_POSTINGS_SQL, (json.dumps(keys), cap)):
                if seqs is not None:
                    out[key] = list(map(int, seqs.split(",")))
        except sqlite3.DatabaseError as exc:
            self._failed(exc)
        return out

    def pages(self, seqs: list[int]) -> list[PageRow]:
        if not seqs:
            return []
        q = (f"SELECT seq, id, url, published, text_hash, n_words, fp FROM pages "
             f"WHERE seq IN ({','.join('?' * len(seqs))})")
        try:
            return [PageRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], bytes(r[6]))
                    for r in self.db.execute(q, seqs)]
        except sqlite3.DatabaseError as exc:
            self._failed(exc)

    # ---- writes ---------------------------------------------------------------------
    def write(self, rows: list[PageRow], keys: list[list[int]]) -> list[PageRow]:
        """Add pages (``seq`` assigned here) and their posting keys (``keys[i]`` are
        ``rows[i]``'s) in one transaction."""
        with self._tx() as db:
            last = db.execute("SELECT coalesce(max(seq), 0) FROM pages").fetchone()[0]
            for i, r in enumerate(rows, start=1):
                r.seq = last + i
            db.executemany("INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(r.seq, r.id, r.url, r.published, r.text_hash, r.n_words, r.fp)
                            for r in rows])
            db.executemany("INSERT OR IGNORE INTO post VALUES (?, ?)",
                           _key_order([r.seq for r in rows], keys))
        return rows

    def _tx(self):
        store = self

        class _Tx:
            def __enter__(self):
                store.db.execute("BEGIN IMMEDIATE")
                return store.db

            def __exit__(self, exc_type, exc, tb):
                store.db.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    def size_bytes(self) -> int:
        """Bytes on disk, after folding the write-ahead log into the main file."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in self.path.glob(SQLITE_FILE + "*"))

    def close(self) -> None:
        self.db.close()


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB (raised as the base ``DatabaseError``), not a misuse
    (``ProgrammingError``: a closed connection) or a busy or locked database."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (11, 26)
    return type(exc) is sqlite3.DatabaseError


def _key_order(seqs: list[int], keys: list[list[int]]):
    """(key, seq) of every posting, sorted: neighbouring inserts land in the same B-tree
    pages. Sorted as two int64 arrays (keys are 63-bit), not as Python tuples."""
    counts = np.fromiter(map(len, keys), np.int64, len(keys))
    k = np.fromiter(itertools.chain.from_iterable(keys), np.int64, int(counts.sum()))
    s = np.repeat(np.asarray(seqs, dtype=np.int64), counts)
    order = np.lexsort((s, k))
    return zip(k[order].tolist(), s[order].tolist())


#: Pages per atomic Redis write (one Lua script; ~150 postings a page).
REDIS_WRITE_CHUNK = 100
#: KEYS: seq counter, ids hash. ARGV: prefix, n, then per page: id, url, published, th, nw,
#: fp, number of posting keys, the keys. Returns each page's seq (0: id already claimed).
_WRITE_LUA = """
local prefix, n = ARGV[1], tonumber(ARGV[2])
local out, a = {}, 3
for i = 1, n do
  local id = ARGV[a]
  local nk = tonumber(ARGV[a + 6])
  if redis.call('HEXISTS', KEYS[2], id) == 1 then
    out[i] = 0
  else
    local seq = redis.call('INCR', KEYS[1])
    redis.call('HSET', KEYS[2], id, seq)
    redis.call('HSET', prefix .. ':pg:' .. seq, 'id', id, 'url', ARGV[a + 1],
               'published', ARGV[a + 2], 'th', ARGV[a + 3], 'nw', ARGV[a + 4], 'fp', ARGV[a + 5])
    for k = 1, nk do
      redis.call('SADD', prefix .. ':k:' .. ARGV[a + 6 + k], seq)
    end
    out[i] = seq
  end
  a = a + 7 + nk
end
return out
"""


def parse_redis_url(url: str) -> tuple[str, str]:
    """Split ``redis://host:port/db?prefix=x`` into the connection URL and the key prefix."""
    u = urlparse(url)
    prefix = parse_qs(u.query).get("prefix", [DEFAULT_REDIS_PREFIX])[0]
    return u._replace(query="").geturl(), prefix


class RedisStore:
    """The same index in Redis, so many API replicas share it. Writes are atomic Lua scripts."""

    def __init__(self, url: str, create: bool = True):
        import redis

        conn_url, self.prefix = parse_redis_url(url)
        self.url = url
        self.r = redis.Redis.from_url(conn_url, decode_responses=False)
        try:
            self.r.ping()
        except redis.RedisError as exc:
            raise IndexNotFoundError(f"cannot reach Redis at {conn_url}: {exc}") from None
        self.create = create
        p = self.prefix
        self.k_meta, self.k_seq, self.k_ids = f"{p}:meta", f"{p}:seq", f"{p}:ids"
        self._script = None

    def _pg(self, seq: int) -> str:
        return f"{self.prefix}:pg:{seq}"

    def _post(self, key: int) -> str:
        return f"{self.prefix}:k:{key}"

    def read_meta(self) -> dict | None:
        import redis

        try:
            raw = self.r.hgetall(self.k_meta)
        except redis.ResponseError as exc:
            raise CorruptIndexError(f"{self.k_meta} is not an index metadata hash: {exc}") from None
        if not raw:
            if self.r.exists(self.k_ids) or self.r.exists(self.k_seq):
                raise CorruptIndexError(f"index keys under {self.prefix!r} but no {self.k_meta}")
            if not self.create:
                raise IndexNotFoundError(f"no index under prefix {self.prefix!r} in {self.url}")
            return None
        return {k.decode(): v.decode() for k, v in raw.items()}

    def init(self, meta: dict) -> None:
        # HSETNX on "format" first so two replicas creating at once agree on one writer.
        if self.r.hsetnx(self.k_meta, "format", meta["format"]):
            self.r.hset(self.k_meta, mapping=meta)

    def count(self) -> int:
        return self.r.hlen(self.k_ids)

    def lookup_ids(self, ids: list[str]) -> dict[str, tuple[int, bytes]]:
        if not ids:
            return {}
        seqs = self.r.hmget(self.k_ids, ids)
        found = {i: int(s) for i, s in zip(ids, seqs) if s is not None}
        pipe = self.r.pipeline(transaction=False)
        for s in found.values():
            pipe.hget(self._pg(s), "th")
        ths = pipe.execute()
        return {i: (s, th or b"") for (i, s), th in zip(found.items(), ths)}

    def postings(self, keys: list[int], cap: int) -> dict[int, list[int]]:
        pipe = self.r.pipeline(transaction=False)
        for k in keys:
            pipe.scard(self._post(k))
        sizes = pipe.execute()
        small = [k for k, n in zip(keys, sizes) if 0 < n <= cap]
        for k in small:
            pipe.smembers(self._post(k))
        return {k: [int(s) for s in members] for k, members in zip(small, pipe.execute())}

    def pages(self, seqs: list[int]) -> list[PageRow]:
        pipe = self.r.pipeline(transaction=False)
        for s in seqs:
            pipe.hgetall(self._pg(s))
        out = []
        for s, h in zip(seqs, pipe.execute()):
            if not h:
                continue  # (written atomically since issue 19: only an index from before)
            g = lambda f: h.get(f.encode())  # noqa: E731
            url, pub = g("url"), g("published")
            out.append(PageRow(s, g("id").decode(), url.decode() if url else None,
                               pub.decode() if pub else None, g("th"), int(g("nw")), g("fp")))
        return out

    def write(self, rows: list[PageRow], keys: list[list[int]]) -> list[PageRow]:
        """Add pages atomically: one Lua script per chunk claims each id (HSETNX, so
        concurrent writers never both add one id), takes its seq and writes its page and
        postings, all or nothing.

        Why a script: claiming ids in one round trip and writing pages in another left
        *ghosts* when the writer died in between (``kill -9``): ids with no page, counted by
        ``len`` but never matched, and refused when re-added. Redis runs a script to its
        end once it has it, so a killed client leaves either the whole chunk or none of it.
        Chunks of :data:`REDIS_WRITE_CHUNK` pages keep each script short (Redis serves
        nothing else while it runs)."""
        kept: list[PageRow] = []
        for i in range(0, len(rows), REDIS_WRITE_CHUNK):
            kept.extend(self._write_chunk(rows[i:i + REDIS_WRITE_CHUNK],
                                          keys[i:i + REDIS_WRITE_CHUNK]))
        return kept

    def _write_chunk(self, rows: list[PageRow], keys: list[list[int]]) -> list[PageRow]:
        if not rows:
            return []
        if self._script is None:
            self._script = self.r.register_script(_WRITE_LUA)
        args: list = [self.prefix, len(rows)]
        for r, ks in zip(rows, keys):
            args += [r.id, r.url or "", r.published or "", r.text_hash, r.n_words, r.fp, len(ks), *ks]
        seqs = self._script(keys=[self.k_seq, self.k_ids], args=args)
        kept = []
        for r, seq in zip(rows, seqs):
            if int(seq) > 0:  # 0: lost the claim, another writer added that id first
                r.seq = int(seq)
                kept.append(r)
        return kept

    def size_bytes(self) -> int:
        return int(self.r.info("memory").get("used_memory", 0))

    def drop(self) -> None:
        """Delete every key of this index (tests and benchmarks clean up with it)."""
        for key in self.r.scan_iter(match=f"{self.prefix}:*", count=10_000):
            self.r.delete(key)

    def close(self) -> None:
        self.r.close()


def meta_json(params: dict) -> str:
    return json.dumps(params, sort_keys=True)
