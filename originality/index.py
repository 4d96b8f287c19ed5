"""The index of seen pages: add pages, ask what a page was copied, spun or rewritten from.

Candidates come from three cheap lookups, then a handful are scored exactly
(``originality.matching``):

* MinHash LSH (datasketch MinHash, datasketch's band/row choice for Jaccard 0.4) over word
  5-shingles: finds copies;
* an inverted index over a 1-in-8 sample of immutable 5-shingles (hash mod 8 == 0, so a
  page and its spin sample the same shingles): finds spins even at Jaccard 0.15, where
  LSH would need so many bands that every page collides;
* the same over a 1-in-8 sample of fact pairs: finds paraphrases;
* the same over a 1-in-:data:`TERM_SAMPLE_MOD` sample of the page's *terms* (stemmed rare
  content words, ``fingerprints.term_hashes``): finds short rephrasings (GPT summaries) that
  keep their source's vocabulary but too few nearby name pairs to share two sampled pair
  keys with it (on the same-event test split, 13 of 58 GPT rephrasings' sources were never
  a candidate without it).

Posting lists longer than ``max_postings`` are ignored: a key shared by that many pages
("of the U.S. and the") says nothing about which page is the source.

The source is the page the text is derived from (``originality.provenance``): the
strongest match, and among matches about equally strong the earliest (earliest
``published`` date, then the order pages were added). A page is only ever compared with
pages older than itself, so adding a copy later can never turn its original into "the copy".
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from features.base import EVIDENCE_TEXT_CHARS
from features.document import Document, InputError
from originality.dates import normalise_published as _normalise_date
from originality.errors import (
    CorruptIndexError,
    DuplicateIdError,
    IndexVersionError,
    InvalidPageError,
)
from originality.fingerprints import (
    IMMUTABLE_WORDS,
    PAIR_WINDOW,
    QUOTE_WORDS,
    SHINGLE_WORDS,
    Fingerprint,
    fingerprint,
    pack_sets,
    text_hash,
    unpack_sets,
)
from originality.matching import (
    Scores,
    Thresholds,
    coverage,
    matched_word_ranges,
    score,
    verdict,
)
from originality.provenance import DerivationModel, rank, strength
from originality.store import PageRow, RedisStore, SQLiteStore

FORMAT = "farmscore-originality"
VERSION = "4"  # 2: heading names, possessives; 3: terms stored; 4: term posting keys
_TAG_BAND, _TAG_IMM, _TAG_PAIR, _TAG_TERM = 1, 2, 3, 4
#: 1 in this many of a page's terms is a posting key (by hash, so a page and its rephrasing
#: sample the same terms). See the module docstring.
TERM_SAMPLE_MOD = 4
_MAX_EVIDENCE = 10
_COUNT = operator.itemgetter(1)
_CHUNK = 250  # pages per worker task: big enough that pickling is noise


@dataclass(slots=True)
class Match:
    """An indexed page the query page matches, and how."""

    id: str
    url: str | None
    published: str | None
    seq: int
    method: str  # "copy" | "spin" | "paraphrase"
    similarity: float
    scores: Scores
    matched: list[dict] = field(default_factory=list)  # {"start","end","text"} in doc.norm
    coverage: float = 0.0  # share of the page's words the match explains

    def to_source(self) -> dict:
        return {"id": self.id, "url": self.url, "published": self.published,
                "similarity": round(self.similarity, 4), "method": self.method,
                "matched": self.matched}


@dataclass(slots=True)
class Candidate:
    """A page that passes a method's threshold, before the derivation check and ranking."""

    row: PageRow
    sets: dict[str, np.ndarray]
    scores: Scores
    method: str
    similarity: float


@dataclass(slots=True)
class AddResult:
    """What ``Index.add`` did: counts, and (position, message) for every rejected page."""

    added: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _key(tag: int, value: int) -> int:
    """A posting key: 3-bit method tag over 60 bits of hash (fits SQLite's signed int64)."""
    return (tag << 60) | (value & ((1 << 60) - 1))


def validate_page(page) -> tuple[str, Document, str | None, str | None]:
    """(id, document, url, published) of a page record, or InvalidPageError saying why."""
    if not isinstance(page, dict):
        raise InvalidPageError(f"a page must be an object, got {type(page).__name__}")
    pid = page.get("id")
    if isinstance(pid, int) and not isinstance(pid, bool):
        pid = str(pid)
    if not isinstance(pid, str) or not pid.strip():
        raise InvalidPageError("page has no id (a non-empty string)")
    text = page.get("text")
    if not isinstance(text, str):
        raise InvalidPageError(f"page {pid!r} has no text")
    try:
        doc = Document.from_text(text)
    except InputError as exc:
        raise InvalidPageError(f"page {pid!r}: {exc.reason}") from None
    url = page.get("url")
    if url is not None and not isinstance(url, str):
        raise InvalidPageError(f"page {pid!r}: url must be a string")
    try:
        published = _normalise_date(page.get("published"))
    except ValueError as exc:
        raise InvalidPageError(f"page {pid!r}: {exc}") from None
    return pid, doc, url or None, published


class Index:
    """Pages seen so far, on a :mod:`originality.store` backend. Use :func:`open_index`.

    ``thresholds`` decides what counts as a match; ``num_perm``, ``lsh_threshold`` and
    ``sample_mod`` shape the stored keys and are checked against the index on open.
    ``workers`` > 1 fingerprints large ``add`` batches in that many processes.
    ``derivation`` decides whether a ``paraphrase`` match is derived from its page or is
    another article on the same event: the shipped ``models/provenance.json`` by default,
    another :class:`~originality.provenance.DerivationModel`, or None to keep every match.
    """

    def __init__(self, store, create: bool = True, thresholds: Thresholds | None = None,
                 num_perm: int = 64, lsh_threshold: float = 0.4, sample_mod: int = 8,
                 max_postings: int = 300, max_candidates: int = 40, min_votes: int = 2,
                 workers: int = 1, derivation: "DerivationModel | None | str" = "default"):
        self.store = store
        #: decides whether a spin/paraphrase candidate is derived (None: every one is)
        self.derivation = DerivationModel.load() if derivation == "default" else derivation
        self.create = create
        self.thresholds = thresholds or Thresholds()
        self.num_perm = num_perm
        self.lsh_threshold = lsh_threshold
        self.sample_mod = sample_mod
        self.max_postings = max_postings
        self.max_candidates = max_candidates
        self.min_votes = min_votes
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._check_or_init()

    # ---- format ---------------------------------------------------------------------
    @property
    def params(self) -> dict:
        """Everything that changes which keys a page gets; must match the stored index."""
        return {"shingle_words": SHINGLE_WORDS, "immutable_words": IMMUTABLE_WORDS,
                "quote_words": QUOTE_WORDS, "pair_window": PAIR_WINDOW,
                "num_perm": self.num_perm, "lsh_threshold": self.lsh_threshold,
                "sample_mod": self.sample_mod, "term_sample_mod": TERM_SAMPLE_MOD}

    def _check_or_init(self) -> None:
        meta = self.store.read_meta()
        if meta is None:
            if not self.create:  # opened to read: an empty file is no index, never a new one
                raise CorruptIndexError("the index location holds no index (empty); rebuild it "
                                        "with `farmscore index add`")
            self.store.init({"format": FORMAT, "version": VERSION,
                             "params": json.dumps(self.params, sort_keys=True)})
            return
        if meta.get("format") != FORMAT:
            raise CorruptIndexError(
                f"not a farmscore originality index (format {meta.get('format')!r})")
        if meta.get("version") != VERSION:
            raise IndexVersionError(
                f"index format version {meta.get('version')!r}; this farmscore reads version "
                f"{VERSION}. Rebuild it with `farmscore index add` into a new location.")
        try:
            stored = json.loads(meta.get("params", ""))
        except ValueError:
            raise CorruptIndexError("index metadata 'params' is not valid JSON") from None
        if stored != self.params:
            raise IndexVersionError(
                f"index was built with parameters {stored}, not {self.params}; "
                "open it with the same parameters or rebuild it")

    @cached_property
    def _keys(self) -> "PostingKeys":
        """Built on first use: opening an index to check its format needs no datasketch."""
        return PostingKeys(self.num_perm, self.lsh_threshold, self.sample_mod)

    def keys(self, fp: Fingerprint) -> list[int]:
        """Every posting key of a page (see :class:`PostingKeys`)."""
        return self._keys.keys(fp)

    def _fingerprint_all(self, docs: list[Document]) -> list[tuple[Fingerprint, list[int]]]:
        """Fingerprint and posting keys of every page; in ``workers`` processes if > 1.

        Fingerprinting is pure CPU and ~90% of the time of a bulk add, so it is what
        parallelises; the writes stay in this process, in one transaction.
        """
        if self.workers <= 1 or len(docs) < 2 * _CHUNK:
            return [_fingerprint_keys(self._keys, d.norm) for d in docs]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers)
        norms = [d.norm for d in docs]
        chunks = [norms[i:i + _CHUNK] for i in range(0, len(norms), _CHUNK)]
        jobs = self._pool.map(_fingerprint_chunk, [self._keys] * len(chunks), chunks)
        return [r for chunk in jobs for r in chunk]

    # ---- adding ---------------------------------------------------------------------
    def add(self, pages: Iterable[dict], strict: bool = True) -> AddResult:
        """Add page records ``{"id", "text", "url"?, "published"?}`` in one atomic batch.

        An id already indexed with the same text is skipped (adding is idempotent); with a
        different text it is an error, and the indexed page is kept. With ``strict`` the
        first bad page raises (:class:`InvalidPageError`, :class:`DuplicateIdError`) and
        nothing of the batch is written; otherwise bad pages are skipped and listed.
        """
        result = AddResult()
        prepared: list[tuple[int, str, Document, str | None, str | None]] = []
        for pos, page in enumerate(pages):
            try:
                pid, doc, url, pub = validate_page(page)
            except InvalidPageError as exc:
                if strict:
                    raise InvalidPageError(f"page {pos}: {exc}") from None
                result.errors.append((pos, str(exc)))
                continue
            prepared.append((pos, pid, doc, url, pub))
        existing = self.store.lookup_ids(list({p[1] for p in prepared}))
        # a page already indexed with the same text is a duplicate before any fingerprinting
        # (its hash is cheap; fingerprints are ~90 % of an add), so resuming an interrupted
        # `index add` over the same file skips what is there at the speed of reading it
        fresh = []
        for p in prepared:
            known = existing.get(p[1])
            if known is not None and known[1] == text_hash(p[2].norm):
                result.duplicates += 1
            else:
                fresh.append(p)
        prepared = fresh
        batch_ids: dict[str, bytes] = {}
        rows: list[PageRow] = []
        row_keys: list[list[int]] = []  # posting keys of rows[i]
        done = self._fingerprint_all([p[2] for p in prepared])
        for (pos, pid, doc, url, pub), (fp, keys) in zip(prepared, done):
            known = existing.get(pid, (None, batch_ids.get(pid)))[1]
            if known is not None:
                if known == fp.text_hash:
                    result.duplicates += 1
                    continue
                msg = f"id {pid!r} is already indexed with a different text; not replaced"
                if strict:
                    raise DuplicateIdError(f"page {pos}: {msg}")
                result.errors.append((pos, msg))
                continue
            batch_ids[pid] = fp.text_hash
            tmp_seq = -(len(rows) + 1)  # the store assigns the real seq
            rows.append(PageRow(tmp_seq, pid, url, pub, fp.text_hash, fp.n_words, pack_sets(fp)))
            row_keys.append(keys)
        written = self.store.write(rows, row_keys)
        result.added = len(written)
        result.duplicates += len(rows) - len(written)  # lost a race to another writer
        return result

    # ---- querying -------------------------------------------------------------------
    def _candidates(self, fp: Fingerprint, exclude: set[int]) -> list[int]:
        post = self.store.postings(self.keys(fp), self.max_postings)
        return choose_candidates(post, exclude, self.max_candidates, self.min_votes)

    def candidates(self, doc: Document | str, page_id: str | None = None,
                   published: str | None = None,
                   thresholds: Thresholds | None = None) -> list[Candidate]:
        """Every older indexed page that passes a method's threshold (:func:`verdict`),
        before the derivation check and the ranking: what :meth:`query` decides among.
        ``doc`` may be a prepared :class:`Fingerprint` (with positions)."""
        if isinstance(doc, str):
            doc = Document.from_text(doc)
        t = thresholds or self.thresholds
        fp = doc if isinstance(doc, Fingerprint) else fingerprint(doc, keep_positions=True)
        own_seq, own_pub = None, _normalise_date(published) if published else None
        if page_id is not None:
            got = self.store.lookup_ids([page_id])
            if page_id in got:
                own_seq = got[page_id][0]
                row = self.store.pages([own_seq])
                own_pub = own_pub or (row[0].published if row else None)
        exclude = {own_seq} if own_seq is not None else set()
        return candidate_matches(fp, self.store.pages(self._candidates(fp, exclude)), page_id,
                                 own_seq, own_pub, t)

    def query(self, doc: Document | str, page_id: str | None = None,
              published: str | None = None, thresholds: Thresholds | None = None,
              limit: int = 10) -> list[Match]:
        """Indexed pages this page matches, its source first; [] when it looks original.

        ``page_id``: the page's own id, if it is (or will be) indexed: never matched, and
        only pages older than it can be its source. ``published``: its date, same purpose
        for pages not in the index.

        A ``spin`` or ``paraphrase`` candidate must also look *derived* from the page it
        matches, not like another article on the same event
        (:class:`originality.provenance.DerivationModel`). The source is ranked by
        :func:`originality.provenance.rank` (strongest derivation evidence, then
        publication order among near-equal matches); the other matches follow, strongest
        first, at most ``limit`` in all.
        """
        if isinstance(doc, str):
            doc = Document.from_text(doc)
        fp = fingerprint(doc, keep_positions=True)
        return rank_candidates(doc, fp, self.candidates(fp, page_id, published, thresholds),
                               self.derivation, limit)

    def __len__(self) -> int:
        return self.store.count()

    def size_bytes(self) -> int:
        return self.store.size_bytes()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self.store.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PostingKeys:
    """The posting keys of a page: LSH bands, sampled immutables, fact pairs and terms.

    A small picklable object of its own, so that worker processes compute exactly the
    keys the index does.
    """

    def __init__(self, num_perm: int, lsh_threshold: float, sample_mod: int):
        from datasketch import MinHash, MinHashLSH

        self.num_perm = num_perm
        self.sample_mod = sample_mod
        #: datasketch's optimal (bands, rows) for the Jaccard threshold, as hash ranges
        self.bands = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm).hashranges
        self.permutations = MinHash(num_perm=num_perm, seed=1).permutations
        a, b = self.permutations
        self._a = np.asarray(a, dtype=np.uint32)
        self._b = np.asarray(b, dtype=np.uint32)
        self._persons = [b"band%04d" % i for i in range(len(self.bands))]

    def minhash(self, shingles: np.ndarray):
        """datasketch MinHash of pre-hashed shingles (identity hash: they are hashes).

        The reference :meth:`minhash_values` must equal (a test checks it).
        """
        from datasketch import MinHash

        m = MinHash(num_perm=self.num_perm, seed=1, hashfunc=int,
                    permutations=self.permutations, scheme="affine32")
        m.update_batch(shingles.tolist())
        return m

    def minhash_values(self, shingles: np.ndarray) -> np.ndarray:
        """The hash values of :meth:`minhash` computed straight in numpy.

        The same arithmetic as datasketch's "affine32" scheme (MurmurHash3 32-bit
        finaliser, then ``a * h + b`` mod 2**32 and the minimum per permutation) without
        building a MinHash and a Python list of every shingle per page.
        """
        h = shingles.astype(np.uint32)
        h = h ^ (h >> _U16)
        h = h * _FMIX32_M1
        h = h ^ (h >> _U13)
        h = h * _FMIX32_M2
        h = h ^ (h >> _U16)
        return (h[:, None] * self._a + self._b).min(axis=0)

    def keys(self, fp: Fingerprint) -> list[int]:
        out = []
        if len(fp.shingles):
            hv = self.minhash_values(fp.shingles)
            for (s, e), person in zip(self.bands, self._persons):
                d = hashlib.blake2b(hv[s:e].tobytes(), digest_size=8, person=person)
                out.append(_key(_TAG_BAND, int.from_bytes(d.digest(), "little")))
        m = self.sample_mod
        # tag over the (32-bit, so unmasked) hash, as _key, for the sampled hashes at once
        imm = fp.immutables[fp.immutables % m == 0].astype(np.int64)
        pairs = fp.pairs[fp.pairs % m == 0].astype(np.int64)
        terms = fp.terms[fp.terms % TERM_SAMPLE_MOD == 0].astype(np.int64)
        out += (imm | (_TAG_IMM << 60)).tolist()
        out += (pairs | (_TAG_PAIR << 60)).tolist()
        out += (terms | (_TAG_TERM << 60)).tolist()
        return out


_U16, _U13 = np.uint32(16), np.uint32(13)
#: MurmurHash3 fmix32 multipliers (datasketch's _fmix for 32-bit schemes)
_FMIX32_M1, _FMIX32_M2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)


def _fingerprint_keys(keys: PostingKeys, norm: str) -> tuple[Fingerprint, list[int]]:
    fp = fingerprint(norm)
    return fp, keys.keys(fp)


def _fingerprint_chunk(keys: PostingKeys, norms: list[str]) -> list[tuple[Fingerprint, list[int]]]:
    """Worker-process side of :meth:`Index._fingerprint_all`."""
    return [_fingerprint_keys(keys, n) for n in norms]


def choose_candidates(post: dict[int, list[int]], exclude: set[int], max_candidates: int,
                      min_votes: int) -> list[int]:
    """The candidate pages (seqs) of a query, from its posting lists ``{key: [seq, ...]}``
    (keys in the query's key order, seqs ascending, over-long lists already left out).

    Every LSH band hit is a candidate; then pages by how many sampled immutable, fact
    pair and term keys they share (at least ``min_votes``), most first; ``max_candidates``
    in all.
    A pure function, so that a distributed join (``farmscore.batch.dedup``) that gathers
    the same posting lists picks the same candidates as this index.
    """
    band: set[int] = set()
    votes: Counter[int] = Counter()
    for k, seqs in post.items():
        if k >> 60 == _TAG_BAND:
            band.update(seqs)
        else:
            votes.update(seqs)
    chosen = [s for s in band if s not in exclude]
    if len(chosen) >= max_candidates:
        return chosen[:max_candidates]
    # votes.most_common() order (count descending, ties in first-seen order: a stable
    # sort) of only the pages with enough votes: at a million pages most of the
    # thousands of pages a query's keys list have one vote, and need no sorting
    voted = [sv for sv in votes.items() if sv[1] >= min_votes]
    voted.sort(key=_COUNT, reverse=True)
    for s, _ in voted:
        if len(chosen) >= max_candidates:
            break
        if s not in exclude and s not in band:
            chosen.append(s)
    return chosen[:max_candidates]


def candidate_matches(fp: Fingerprint, rows: list[PageRow], page_id: str | None,
                      own_seq: int | None, own_pub: str | None, t: Thresholds) -> list[Candidate]:
    """The candidate pages ``rows`` that may be the page's source and pass a method's
    threshold (:func:`verdict`). Pure: the rows may come from this index's store or from a
    distributed join, and the verdict is the same code."""
    rows = [row for row in rows if row.id != page_id and _older(row, own_seq, own_pub)]
    unpacked = [(row, _unpack(row)) for row in rows]
    keep = _may_match(fp, [sets for _, sets in unpacked], t)
    out = []
    for (row, sets), may in zip(unpacked, keep):
        if not may:
            continue
        s = score(fp, sets)
        v = verdict(s, t)
        if v is not None:
            out.append(Candidate(row, sets, s, v[0], v[1]))
    return out


def rank_candidates(doc: Document, fp: Fingerprint, cands: list[Candidate],
                    derivation: "DerivationModel | None", limit: int = 10) -> list[Match]:
    """The matches, the source first: non-copy matches that the derivation check calls
    another article on the same event are dropped, then :func:`originality.provenance.rank`
    (strongest derivation evidence, publication order among near-equal ones)."""
    kept = [c for c in cands if c.method == "copy" or derivation is None
            or derivation.derived(fp, c.sets, c.scores, c.method)]
    kept = rank(kept, strength_of=lambda c: strength(c.scores),
                order_of=lambda c: _source_order(c.row))
    out = []
    for c in kept[:limit]:
        ranges = matched_word_ranges(fp, c.sets, c.method)
        out.append(Match(id=c.row.id, url=c.row.url, published=c.row.published,
                         seq=c.row.seq, method=c.method, similarity=c.similarity,
                         scores=c.scores, matched=_evidence(doc, fp, ranges),
                         coverage=coverage(ranges, fp.n_words)))
    return out


def rank_matches(doc: Document, fp: Fingerprint, rows: list[PageRow], page_id: str | None,
                 own_seq: int | None, own_pub: str | None, t: Thresholds, limit: int = 10,
                 derivation: "DerivationModel | None | str" = "default") -> list[Match]:
    """The matches among candidate pages ``rows``, the source first: what
    :meth:`Index.query` answers, for candidates found elsewhere (the Spark join)."""
    if derivation == "default":
        derivation = DerivationModel.load()
    return rank_candidates(doc, fp, candidate_matches(fp, rows, page_id, own_seq, own_pub, t),
                           derivation, limit)


def _older(row: PageRow, own_seq: int | None, own_pub: str | None) -> bool:
    """May ``row`` be the source of the query page? Only if it comes first.

    For an indexed page "first" is the source order itself (:func:`_source_order`), so
    the relation is the same one that picks the source and can never be circular. A page
    not in the index may have any indexed page as its source, except one dated later.
    """
    if own_seq is None:
        return not (own_pub and row.published and row.published > own_pub)
    return _source_order(row) < (own_pub or "\uffff", own_seq)


def _source_order(row: PageRow) -> tuple[str, int]:
    """Earliest published first, then order added; undated pages after dated ones.

    Undated last: a page whose date we know to be early is better evidence of being the
    original than one we know nothing about.
    """
    return (row.published or "\uffff", row.seq)


def _unpack(row: PageRow) -> dict[str, np.ndarray]:
    """A candidate's hash sets; a damaged blob is a corrupt index, not a non-match."""
    try:
        return unpack_sets(row.fp)
    except ValueError:
        raise CorruptIndexError(f"page {row.id!r} has a damaged fingerprint") from None


def _in_sorted(q: np.ndarray, cands: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For all candidate items at once: (owner candidate, found in q, position in q).

    A binary search into the (small, sorted unique) query set: cheaper than ``np.isin``,
    which sorts the query and all candidates together.
    """
    cat = np.concatenate(cands)
    owner = np.repeat(np.arange(len(cands)), [len(c) for c in cands])
    if not len(q):
        return owner, np.zeros(len(cat), dtype=bool), np.zeros(len(cat), dtype=np.int64)
    pos = np.minimum(np.searchsorted(q, cat), len(q) - 1)
    return owner, q[pos] == cat, pos


def _shared_counts(q: np.ndarray, cands: list[np.ndarray]) -> np.ndarray:
    """|q & c| for every candidate set c (all sets sorted unique)."""
    owner, hit, _ = _in_sorted(q, cands)
    return np.bincount(owner[hit], minlength=len(cands))


def _shared_weights(q: np.ndarray, qw: np.ndarray, cands: list[np.ndarray]) -> np.ndarray:
    """Weight of q's items found in every candidate set (q sorted unique, qw aligned)."""
    owner, hit, pos = _in_sorted(q, cands)
    return np.bincount(owner[hit], weights=qw[pos[hit]], minlength=len(cands))


def _may_match(fp: Fingerprint, cands: list[dict[str, np.ndarray]], t: Thresholds) -> list[bool]:
    """Which candidates can pass :func:`verdict`; the rest need no exact scoring.

    The overlaps that ``verdict`` thresholds (shared shingles and immutables, weighted
    fact and fact-pair containment) for all candidates at once cost a few numpy calls,
    while exact scoring costs a dozen per candidate, and most candidates of a frequent
    key fail every method. Weights are summed in another order than ``score`` sums
    them, so every comparison gets a small tolerance: the filter may keep a hopeless
    candidate, never drop one that matches.
    """
    if not cands:
        return []
    eps = 1e-6
    nq_sh, nq_im = len(fp.shingles), len(fp.immutables)
    nc_sh = np.asarray([len(c["shingles"]) for c in cands])
    nc_im = np.asarray([len(c["immutables"]) for c in cands])
    sh = _shared_counts(fp.shingles, [c["shingles"] for c in cands])
    im = _shared_counts(fp.immutables, [c["immutables"] for c in cands])
    copy = (sh >= t.copy_min_shared) & (np.maximum(_div(sh, nq_sh), _div(sh, nc_sh)) >= t.copy - eps)
    spin = (im >= t.spin_min_shared) & (np.maximum(_div(im, nq_im), _div(im, nc_im)) >= t.spin - eps)
    keep = copy | spin
    # paraphrase only where it decides anything: not for candidates already kept, and
    # fact pairs (the largest sets) only where the shared fact weight reaches a floor
    rest = np.flatnonzero(~keep)
    if not len(rest):
        return keep.tolist()
    w = _shared_weights(fp.nnq, fp.nnq_w, [cands[i]["nnq"] for i in rest])
    heavy = w >= min(t.paraphrase_min_weight, t.rewrite_min_weight) - eps
    rest, w = rest[heavy], w[heavy]
    if not len(rest):
        return keep.tolist()
    wp = _shared_weights(fp.pairs, fp.pairs_w, [cands[i]["pairs"] for i in rest])
    nnq = np.sqrt(_div(w, float(fp.nnq_w.sum())) * _div(wp, float(fp.pairs_w.sum())))
    para = ((nnq >= t.paraphrase - eps) & (w >= t.paraphrase_min_weight - eps)) | \
           ((nnq >= t.rewrite - eps) & (w >= t.rewrite_min_weight - eps))
    keep[rest[para]] = True
    return keep.tolist()


def _div(n: np.ndarray, d) -> np.ndarray:
    """n / d with 0 where d is 0 (as ``matching._ratio``)."""
    d = np.broadcast_to(np.asarray(d, dtype=float), np.shape(n))
    return np.divide(n, d, out=np.zeros(np.shape(n)), where=d != 0)


def _evidence(doc: Document, fp: Fingerprint, ranges: list[tuple[int, int]]) -> list[dict]:
    """The longest matched passages (at most 10), as char spans of ``doc.norm``, in order;
    their ``text`` cut to ``EVIDENCE_TEXT_CHARS`` like every evidence span (a passage can
    be the whole source)."""
    top = sorted(ranges, key=lambda r: r[0] - r[1])[:_MAX_EVIDENCE]
    out = []
    for i, j in sorted(top):
        s, e = int(fp.tokens.starts[i]), int(fp.tokens.ends[j - 1])
        out.append({"start": s, "end": e, "text": doc.norm[s:e][:EVIDENCE_TEXT_CHARS]})
    return out


def open_index(location: str, create: bool = True, preload: bool = False, **kwargs) -> Index:
    """Open (or create) an index: a directory path for local files, or a Redis URL.

    ``redis://host:port/db?prefix=name`` keeps the index in Redis under ``name:*`` so
    many API replicas share it. Raises :class:`~originality.errors.IndexNotFoundError`,
    :class:`~originality.errors.CorruptIndexError` or
    :class:`~originality.errors.IndexVersionError` with a message saying what to do.
    """
    loc = str(location)
    if loc.startswith(("redis://", "rediss://", "unix://")):
        store = RedisStore(loc, create=create)  # in memory already: ``preload`` is moot
    else:
        store = SQLiteStore(loc, create=create, preload=preload)
    try:
        return Index(store, create=create, **kwargs)
    except Exception:
        store.close()
        raise
