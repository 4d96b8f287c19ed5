"""The moderation queue's operations: enqueue, claim (with a lease), decide, undo, export.

Everything that changes state is one short transaction, and every rule that keeps two
moderators apart is enforced by the database, not by the web process, so several server
processes can share one database.

Priority
--------
``risk = 1 - originality * quality``: the two scores are the model's calibrated
probabilities that the page is its own work and that it is a clean article, so (taking the
two heads as independent) risk is the probability that it is farm output on either count.
Unlike ``1 - min(...)`` it uses both scores: the seeds, whose originality is at the model's
floor (0.0003), had one risk of 0.9997 each and nothing to order them by. A page enters the queue when
``risk >= threshold`` (default 0.5, ``$FARMSCORE_QUEUE_RISK``). Its priority is::

    uncertainty = 1 / (1 + |logit(risk) - logit(threshold)|)   # 1 at the threshold
    priority    = w * uncertainty + (1 - w) * risk             # w = 0.6 by default

so the pages the model is least sure about come first (a moderator's label teaches the
model most there, and a wrong automatic decision is likeliest there), and among equally
uncertain pages the riskier one wins. Closeness is measured in log-odds, where the model's
confidence lives: a linear distance gave every page past risk 0.99 uncertainty 0 and one
priority of 0.40, so the order among them was arbitrary. Priority is computed at enqueue
time with the threshold of that moment.

Claim and lease protocol
------------------------
* ``claim_next``: if the moderator already holds a live lease, that item comes back (a page
  reload never grabs a second one). Otherwise, in one transaction, pick the best candidate
  (pending, unclaimed or lease expired, not skipped by this moderator) with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (concurrent claimers skip each
  other's rows instead of queueing behind them), then ``UPDATE items SET claimed_by, lease_token,
  lease_expires_at WHERE id = ? AND status = 'pending' AND (claimed_by IS NULL OR
  lease_expires_at < now)``. The UPDATE's row count says whether the claim won; on SQLite,
  where FOR UPDATE does not exist, that conditional UPDATE alone is the guard (and writes
  are serialised by ``BEGIN IMMEDIATE``).
* ``decide`` (approve / reject / skip) must present the lease token: the state change is an
  ``UPDATE ... WHERE id = ? AND lease_token = ? AND claimed_by = ? AND lease_expires_at >= now``
  and the log row is inserted only when it matched. ``decisions`` has a unique
  ``(item_id, lease_token)``: a retried request (same token) returns the decision already
  recorded instead of recording it twice, and a lost lease is a :class:`Conflict`.
* ``undo`` appends an ``undo`` row pointing at the moderator's latest decision that is still
  the item's current one (``items.last_decision_id``), puts the item back to pending and
  leases it to the same moderator, who sees it again. ``undoes_id`` is unique, so one
  decision is never undone twice; nothing is ever deleted.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import DataError, IntegrityError

from moderation.db import (decisions, item_techniques, items, moderators, sessions, source_texts,
                           utcnow)

DEFAULT_RISK = 0.5
DEFAULT_UNCERTAINTY_WEIGHT = 0.6
DEFAULT_LEASE_SECONDS = 600
#: A signal at or above this strength names a technique (filters, reject defaults).
TECHNIQUE_STRENGTH = 0.5
ACTIONS = ("approve", "reject", "skip")
VIEWS = ("priority", "newest", "score")
MAX_TEXT_CHARS = 1_000_000


class QueueError(Exception):
    """A request the queue refuses; ``status`` is the HTTP status the API maps it to."""

    status = 400


class NotFound(QueueError):
    status = 404


class Conflict(QueueError):
    """The lease is gone (expired, or someone else holds the item), or there is nothing to undo."""

    status = 409


class Invalid(QueueError):
    status = 422


def default_risk_threshold() -> float:
    """$FARMSCORE_QUEUE_RISK, else 0.5."""
    env = os.environ.get("FARMSCORE_QUEUE_RISK")
    return float(env) if env else DEFAULT_RISK


def risk_of(originality: float, quality: float) -> float:
    """How likely the page is farm output: 1 - P(original) * P(clean) (module docstring)."""
    return 1.0 - originality * quality


def priority_of(risk: float, threshold: float, weight: float = DEFAULT_UNCERTAINTY_WEIGHT) -> float:
    """See the module docstring: uncertainty (closeness to the threshold) mixed with risk."""
    uncertainty = 1.0 / (1.0 + abs(_logit(risk) - _logit(threshold)))
    return round(weight * uncertainty + (1.0 - weight) * risk, 6)


def _logit(p: float, eps: float = 1e-9) -> float:
    p = min(max(p, eps), 1.0 - eps)
    return math.log(p / (1.0 - p))


def techniques_of(signals: dict[str, float]) -> dict[str, float]:
    """Signals strong enough to name a technique (strength >= 0.5)."""
    return {k: float(v) for k, v in signals.items() if float(v) >= TECHNIQUE_STRENGTH}


@dataclass
class EnqueueResult:
    """What happened to one page offered to the queue."""

    page_id: str
    queued: bool
    reason: str  # 'queued' | 'below_threshold' | 'duplicate'
    item_id: int | None
    risk: float
    priority: float | None = None

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def _num(rec: dict, key: str) -> float:
    val = rec.get(key)
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val) \
            or not 0.0 <= float(val) <= 1.0:
        raise Invalid(f"'{key}' must be a number in [0, 1]")
    return float(val)


#: Verdicts a scored record may carry (``scoring``'s three, or none).
VERDICTS = ("farm", "suspect", "ok")
#: Longest id or name the tables hold (``items.page_id`` is VARCHAR(512)).
MAX_ID_CHARS = 512


def storable(value: str, what: str, max_chars: int | None = None) -> str:
    """``value`` when both databases can store it as text: no NUL (PostgreSQL refuses it in
    text), no lone surrogate (not Unicode; neither driver can encode it), and at most
    ``max_chars`` characters when given. Otherwise :class:`Invalid`, naming ``what``.

    Why refuse instead of clean: the queue's export is a training set, and a page whose text
    was silently changed would be a different page than the one the moderator judged."""
    if "\x00" in value:
        raise Invalid(f"{what} contains a NUL character (U+0000), which cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Invalid(f"{what} contains a lone surrogate at character {exc.start}; "
                      "it is not valid Unicode text") from None
    if max_chars is not None and len(value) > max_chars:
        raise Invalid(f"{what} has {len(value):,} characters; the limit is {max_chars:,}")
    return value


def _scalar_id(val: Any, what: str) -> str:
    """A record id as stored: a non-empty string, or a finite integer/float written out."""
    if isinstance(val, bool) or val is None or isinstance(val, (dict, list)):
        raise Invalid(f"{what} is required (a string or number)")
    if isinstance(val, float) and not math.isfinite(val):
        raise Invalid(f"{what} must be a finite number or a string, not {val}")
    if not isinstance(val, (str, int, float)):
        raise Invalid(f"{what} must be a string or number")
    out = str(val)
    if not out.strip():
        raise Invalid(f"{what} is empty")
    return storable(out, what, MAX_ID_CHARS)


def _opt_str(val: Any, what: str, max_chars: int) -> str | None:
    """An optional string field: None, or a storable string cut to ``max_chars``."""
    if val is None or val == "":
        return None
    if not isinstance(val, str):
        raise Invalid(f"{what} must be a string or null")
    return storable(val, what)[:max_chars]


def _spans(raw: Any, text: str | None, what: str, max_items: int | None = None) -> list[dict]:
    """Evidence-like spans ``{"start", "end", "text"?, "signal"?, "detail"?}`` that are well
    formed; malformed entries are dropped (``text`` given: also spans outside it)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Invalid(f"{what} must be a list of spans")
    out = []
    for ev in raw:
        if not isinstance(ev, dict):
            continue
        s, e = ev.get("start"), ev.get("end")
        if isinstance(s, bool) or isinstance(e, bool) or not isinstance(s, int) \
                or not isinstance(e, int) or not 0 <= s < e or (text is not None and e > len(text)):
            continue
        span_text = ev.get("text", text[s:e] if text is not None else "")
        if not isinstance(span_text, str):
            continue
        sig, detail = ev.get("signal", "evidence"), ev.get("detail", "")
        if not isinstance(sig, str) or not isinstance(detail, str):
            continue
        try:
            out.append({"signal": storable(sig, f"{what} signal")[:64], "start": s, "end": e,
                        "text": storable(span_text, f"{what} text")[:300],
                        "detail": storable(detail, f"{what} detail")[:1000]})
        except Invalid:
            continue
        if max_items is not None and len(out) >= max_items:
            break
    return out


def clean_source(src: Any) -> dict | None:
    """The matched source of a record in its one shape, or :class:`Invalid`::

        {"id": str, "url": str|None, "published": str|None, "method": str|None,
         "similarity": float in [0, 1] | None, "matched": [{"start", "end", "text"}], "text"?: str}

    ``matched`` entries that are not well-formed spans are dropped (they only decorate the
    view); everything else must have its type, so a poisoned record is refused at the door."""
    if src is None:
        return None
    if not isinstance(src, dict):
        raise Invalid("'source' must be null or an object")
    out: dict[str, Any] = {"id": _scalar_id(src.get("id"), "'source.id'")}
    out["url"] = _opt_str(src.get("url"), "'source.url'", 2048)
    out["published"] = _opt_str(src.get("published"), "'source.published'", 64)
    out["method"] = _opt_str(src.get("method"), "'source.method'", 32)
    sim = src.get("similarity")
    if sim is not None:
        if isinstance(sim, bool) or not isinstance(sim, (int, float)) or not math.isfinite(sim) \
                or not 0.0 <= sim <= 1.0:
            raise Invalid("'source.similarity' must be a number in [0, 1] or null")
        sim = float(sim)
    out["similarity"] = sim
    out["matched"] = [{"start": m["start"], "end": m["end"], "text": m["text"]}
                      for m in _spans(src.get("matched"), None, "'source.matched'", 100)]
    text = src.get("text")
    if text is not None:
        if not isinstance(text, str):
            raise Invalid("'source.text' must be a string")
        out["text"] = storable(text, "'source.text'", MAX_TEXT_CHARS)
    return out


def safe_source(src: Any) -> dict | None:
    """:func:`clean_source` for reading: a stored source that does not fit is not shown."""
    try:
        return clean_source(src)
    except Invalid:
        return None


def validate_record(rec: Any, text: str | None = None) -> dict:
    """A scored record (``farmscore score`` output) checked and normalised for storage.

    Why so strict: records arrive from files and HTTP; a bad span, a NaN, a string where a
    number belongs or a character the database cannot hold must be refused here (with the
    field named), not crash the item view or the import later. Evidence outside the text is
    dropped (clamped offsets would highlight the wrong words). One schema for every door:
    ``queue import``, ``POST /api/items`` and the API all come through here.
    """
    if not isinstance(rec, dict):
        raise Invalid("a scored record must be a JSON object")
    if "error" in rec:
        raise Invalid(f"the record is an error record: {str(rec['error'])[:300]}")
    pid = _scalar_id(rec.get("id"), "'id'")
    text = rec.get("text", text)
    if not isinstance(text, str) or not text.strip():
        raise Invalid("'text' is required: the moderator must see the page")
    storable(text, "'text'", MAX_TEXT_CHARS)
    orig, qual = _num(rec, "originality"), _num(rec, "quality")
    signals = rec.get("signals") or {}
    if not isinstance(signals, dict):
        raise Invalid("'signals' must be an object {name: strength}")
    clean_signals: dict[str, float] = {}
    for k, v in signals.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise Invalid(f"signal {k[:64]!r} must be a number")
        clean_signals[storable(str(k), "a signal name")[:64]] = float(v)
    evidence = _spans(rec.get("evidence"), text, "'evidence'")
    source = clean_source(rec.get("source"))
    model = rec.get("model") or {}
    if not isinstance(model, dict):
        raise Invalid("'model' must be an object {name, version}")
    verdict = rec.get("verdict")
    if verdict is not None and verdict not in VERDICTS:
        raise Invalid(f"'verdict' must be one of {', '.join(VERDICTS)} or null")
    url = rec.get("url")
    if url is not None and not isinstance(url, str):
        raise Invalid("'url' must be a string or null")
    return {"page_id": pid, "text": text, "url": _opt_str(url, "'url'", 100_000),
            "originality": orig, "quality": qual, "verdict": verdict,
            "signals": clean_signals, "evidence": evidence, "source": source,
            "model_name": storable(str(model.get("name", "unknown")), "'model.name'")[:100],
            "model_version": storable(str(model.get("version", "unknown")), "'model.version'")[:50]}


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") + "Z" if dt else None


class ModerationQueue:
    """All queue operations over one SQLAlchemy engine (thread-safe; share one per process)."""

    def __init__(self, engine: Engine, risk_threshold: float | None = None,
                 lease_seconds: int = DEFAULT_LEASE_SECONDS,
                 uncertainty_weight: float = DEFAULT_UNCERTAINTY_WEIGHT,
                 scorer: Any = None, scorer_factory: Callable[[], Any] | None = None,
                 source_lookup: Callable[[str], str | None] | None = None):
        self.engine = engine
        self.risk_threshold = default_risk_threshold() if risk_threshold is None else risk_threshold
        if not 0.0 <= self.risk_threshold <= 1.0:
            raise ValueError("risk threshold must be in [0, 1]")
        self.lease = timedelta(seconds=lease_seconds)
        self.weight = uncertainty_weight
        self._scorer = scorer
        self._scorer_factory = scorer_factory
        self.source_lookup = source_lookup
        self.is_pg = engine.dialect.name == "postgresql"

    # ---- scoring and enqueueing -----------------------------------------------------
    @property
    def scorer(self):
        """The scorer, built on first use: loading models costs seconds, and a queue fed
        only with scored records never needs it."""
        if self._scorer is None:
            if self._scorer_factory is None:
                from scoring.score import build_scorer

                self._scorer_factory = build_scorer
            self._scorer = self._scorer_factory()
        return self._scorer

    def score_text(self, text: str, page_id: str, url: str | None = None) -> dict:
        """Score a raw page with the shared scorer; refused input is :class:`Invalid`."""
        from features.document import InputError

        try:
            rec = self.scorer.score(text, page_id)
        except InputError as exc:
            raise Invalid(f"{exc.code}: {exc.reason}") from None
        rec["text"] = text
        if url:
            rec["url"] = url
        return rec

    def enqueue(self, rec: dict, force: bool = False) -> EnqueueResult:
        """Add a scored record when its risk is past the threshold (or ``force``).

        The same page id is queued once: offering it again is a 'duplicate', so re-running an
        import never doubles the work.
        """
        row = validate_record(rec)
        risk = risk_of(row["originality"], row["quality"])
        if risk < self.risk_threshold and not force:
            return EnqueueResult(row["page_id"], False, "below_threshold", None, round(risk, 6))
        prio = priority_of(risk, self.risk_threshold, self.weight)
        now = utcnow()
        src = row["source"]
        src_text = src.get("text") if isinstance(src, dict) else None
        if isinstance(src, dict):  # the text lives in source_texts, once per source
            row["source"] = {k: v for k, v in src.items() if k != "text"}
        try:
            with self.engine.begin() as conn:
                item_id = conn.execute(insert(items).values(
                    **row, risk=round(risk, 6), priority=prio, status="pending", skip_count=0,
                    created_at=now).returning(items.c.id)).scalar_one()
                techs = techniques_of(row["signals"])
                if techs:
                    conn.execute(insert(item_techniques), [
                        {"item_id": item_id, "technique": k, "strength": v} for k, v in techs.items()])
                if isinstance(src_text, str) and src_text and src.get("id") is not None:
                    sid = str(src["id"])[:512]
                    if conn.execute(select(source_texts.c.source_id).where(
                            source_texts.c.source_id == sid)).first() is None:
                        conn.execute(insert(source_texts).values(
                            source_id=sid, url=src.get("url"), text=src_text, created_at=now))
        except DataError as exc:  # validation should have caught it; say so, never 500
            raise Invalid(f"the database refused the record: {str(exc.orig).splitlines()[0][:300]}") from None
        except IntegrityError:
            with self.engine.connect() as conn:
                existing = conn.execute(select(items.c.id, items.c.priority).where(
                    items.c.page_id == row["page_id"])).first()
            if existing is None:
                raise
            return EnqueueResult(row["page_id"], False, "duplicate", existing.id, round(risk, 6),
                                 existing.priority)
        return EnqueueResult(row["page_id"], True, "queued", item_id, round(risk, 6), prio)

    def enqueue_text(self, text: str, page_id: str, url: str | None = None,
                     force: bool = False) -> EnqueueResult:
        """Score a raw page, then :meth:`enqueue` it."""
        return self.enqueue(self.score_text(text, page_id, url), force=force)

    # ---- moderators -----------------------------------------------------------------
    def add_moderator(self, name: str, password: str) -> None:
        """Create a moderator, or set a new password for an existing one."""
        from moderation.auth import hash_password

        name = name.strip()
        if not name or len(name) > 100:
            raise Invalid("a moderator name has 1-100 characters")
        if len(password) < 8:
            raise Invalid("a password has at least 8 characters")
        h = hash_password(password)
        with self.engine.begin() as conn:
            done = conn.execute(update(moderators).where(moderators.c.name == name)
                                .values(password_hash=h, active=True)).rowcount
            if done:  # a new password ends every session signed in under the old one
                conn.execute(delete(sessions).where(sessions.c.moderator_id.in_(
                    select(moderators.c.id).where(moderators.c.name == name))))
            else:
                conn.execute(insert(moderators).values(name=name, password_hash=h, active=True,
                                                       created_at=utcnow()))

    def check_login(self, name: str, password: str) -> bool:
        """True when the moderator exists, is active and the password matches."""
        from moderation.auth import verify_password

        with self.engine.connect() as conn:
            row = conn.execute(select(moderators.c.password_hash, moderators.c.active)
                               .where(moderators.c.name == name)).first()
        if row is None or not row.active:
            verify_password(None, password)  # same cost either way: no user enumeration by timing
            return False
        return verify_password(row.password_hash, password)

    def moderator_exists(self, name: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(moderators.c.id).where(
                moderators.c.name == name, moderators.c.active.is_(True))).first() is not None

    # ---- sessions -------------------------------------------------------------------
    def open_session(self, name: str, password: str, max_age: int) -> str | None:
        """Check a sign-in and start a session: its random id, or None when the name or
        password is wrong or the moderator is inactive.

        Why the second check inside the insert's transaction (``FOR SHARE`` on PostgreSQL,
        the write lock on SQLite): a password change or deactivation that lands between the
        argon2 check and the insert must not leave a session behind under the old password.
        """
        from moderation.auth import verify_password

        if "\x00" in name or len(name) > 100:
            verify_password(None, password)
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(moderators.c.id, moderators.c.password_hash, moderators.c.active)
                               .where(moderators.c.name == name)).first()
        if row is None or not row.active:
            verify_password(None, password)  # same cost either way: no user enumeration by timing
            return None
        if not verify_password(row.password_hash, password):
            return None
        sid = secrets.token_urlsafe(32)
        now = utcnow()
        with self.engine.begin() as conn:
            still = select(moderators.c.id).where(moderators.c.id == row.id, moderators.c.active.is_(True),
                                                  moderators.c.password_hash == row.password_hash)
            if self.is_pg:
                still = still.with_for_update(read=True)
            if conn.execute(still).scalar() is None:
                return None
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))  # keep the table small
            conn.execute(insert(sessions).values(id=sid, moderator_id=row.id, created_at=now,
                                                 expires_at=now + timedelta(seconds=max_age)))
        return sid

    def session_moderator(self, session_id: str) -> str | None:
        """The active moderator whose live session this is, else None."""
        if not session_id or len(session_id) > 64 or "\x00" in session_id:
            return None
        with self.engine.connect() as conn:
            return conn.execute(
                select(moderators.c.name).select_from(sessions.join(moderators))
                .where(sessions.c.id == session_id, sessions.c.expires_at > utcnow(),
                       moderators.c.active.is_(True))).scalar()

    def end_session(self, session_id: str) -> bool:
        """End one session (sign-out); False when it had already ended."""
        with self.engine.begin() as conn:
            return conn.execute(delete(sessions).where(sessions.c.id == session_id)).rowcount == 1

    def deactivate_moderator(self, name: str) -> bool:
        """Stop a moderator signing in; their sessions end at once. False when unknown."""
        with self.engine.begin() as conn:
            done = conn.execute(update(moderators).where(moderators.c.name == name)
                                .values(active=False)).rowcount == 1
            conn.execute(delete(sessions).where(sessions.c.moderator_id.in_(
                select(moderators.c.id).where(moderators.c.name == name))))
        return done

    # ---- claiming -------------------------------------------------------------------
    def _order(self, view: str):
        if view == "newest":
            return [items.c.created_at.desc(), items.c.id.desc()]
        if view == "score":
            return [items.c.risk.desc(), items.c.id]
        if view == "priority":
            return [items.c.priority.desc(), items.c.id]
        raise Invalid(f"view must be one of {', '.join(VIEWS)}")

    def _technique_filter(self, technique: str | None):
        if not technique:
            return None
        return exists().where(item_techniques.c.item_id == items.c.id,
                              item_techniques.c.technique == technique)

    def claim_next(self, moderator: str, view: str = "priority",
                   technique: str | None = None) -> dict | None:
        """Lease the next item to ``moderator`` (see the module docstring); None when empty."""
        order = self._order(view)
        now = utcnow()
        held = self._held(moderator, now)
        if held is not None:
            return held
        conds = [items.c.status == "pending",
                 or_(items.c.claimed_by.is_(None), items.c.lease_expires_at < now),
                 ~self._skipped_by(moderator)]
        tf = self._technique_filter(technique)
        if tf is not None:
            conds.append(tf)
        for _attempt in range(20):
            token = secrets.token_urlsafe(24)
            with self.engine.begin() as conn:
                q = select(items.c.id).where(*conds).order_by(*order).limit(1)
                if self.is_pg:
                    q = q.with_for_update(skip_locked=True, of=items)
                item_id = conn.execute(q).scalar()
                if item_id is None:
                    return None
                won = conn.execute(update(items).where(
                    items.c.id == item_id, items.c.status == "pending",
                    or_(items.c.claimed_by.is_(None), items.c.lease_expires_at < now),
                ).values(claimed_by=moderator, lease_token=token,
                         lease_expires_at=now + self.lease)).rowcount
            if won == 1:
                return self.get_item(item_id)
        raise Conflict("too much contention; try again")

    @staticmethod
    def _skipped_by(moderator: str):
        """EXISTS: the moderator skipped this item (and did not undo the skip)."""
        undone = decisions.alias("undone")
        return exists().where(decisions.c.item_id == items.c.id,
                              decisions.c.moderator == moderator,
                              decisions.c.action == "skip",
                              ~exists().where(undone.c.undoes_id == decisions.c.id))

    def remaining_for(self, moderator: str) -> int:
        """Pending items this moderator could still get (held by others included): when 0,
        there is no point waiting for leases to come back."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).where(
                items.c.status == "pending", ~self._skipped_by(moderator))).scalar_one()

    def claim_item(self, moderator: str, item_id: int) -> dict:
        """Lease one given item (from a list view); releases the moderator's other lease."""
        now = utcnow()
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            won = conn.execute(update(items).where(
                items.c.id == item_id, items.c.status == "pending",
                or_(items.c.claimed_by.is_(None), items.c.claimed_by == moderator,
                    items.c.lease_expires_at < now),
            ).values(claimed_by=moderator, lease_token=token,
                     lease_expires_at=now + self.lease)).rowcount
            if won != 1:
                exists_ = conn.execute(select(items.c.status, items.c.claimed_by)
                                       .where(items.c.id == item_id)).first()
                if exists_ is None:
                    raise NotFound(f"no item {item_id}")
                if exists_.status != "pending":
                    raise Conflict(f"item {item_id} is already decided")
                raise Conflict(f"item {item_id} is being reviewed by {exists_.claimed_by}")
            self._release_others(conn, moderator, keep=item_id)
        return self.get_item(item_id)

    def _release_others(self, conn, moderator: str, keep: int) -> None:
        conn.execute(update(items).where(items.c.claimed_by == moderator, items.c.id != keep)
                     .values(claimed_by=None, lease_token=None, lease_expires_at=None))

    def held_item(self, moderator: str) -> dict | None:
        """The pending item whose live lease this moderator holds, or None (claims nothing)."""
        return self._held(moderator, utcnow())

    def _held(self, moderator: str, now: datetime) -> dict | None:
        with self.engine.connect() as conn:
            item_id = conn.execute(select(items.c.id).where(
                items.c.claimed_by == moderator, items.c.status == "pending",
                items.c.lease_expires_at >= now).order_by(items.c.id).limit(1)).scalar()
        return self.get_item(item_id) if item_id is not None else None

    def renew(self, moderator: str, item_id: int, lease_token: str) -> datetime:
        """Extend a live lease (the review page calls this while it is open)."""
        now = utcnow()
        with self.engine.begin() as conn:
            n = conn.execute(update(items).where(
                items.c.id == item_id, items.c.lease_token == lease_token,
                items.c.claimed_by == moderator, items.c.lease_expires_at >= now,
            ).values(lease_expires_at=now + self.lease)).rowcount
        if n != 1:
            raise Conflict("the lease has expired or is held by someone else")
        return now + self.lease

    def release(self, moderator: str, item_id: int, lease_token: str) -> None:
        """Give an item back without a decision (nothing is logged: nothing was decided).
        A lease the moderator does not hold (another's, or none) is a :class:`Conflict`."""
        with self.engine.begin() as conn:
            n = conn.execute(update(items).where(
                items.c.id == item_id, items.c.lease_token == lease_token,
                items.c.claimed_by == moderator).values(
                claimed_by=None, lease_token=None, lease_expires_at=None)).rowcount
        if n != 1:
            raise Conflict("that lease is not yours to release (expired, released, or another's)")

    # ---- deciding -------------------------------------------------------------------
    def decide(self, moderator: str, item_id: int, lease_token: str, action: str,
               techniques: list[str] | None = None) -> dict:
        """Record approve / reject / skip under a held lease; idempotent per lease token.

        Returns the decision row as a dict, with ``replayed: True`` when the same lease
        token had already been used (a retried request): nothing new is recorded then.
        """
        if action not in ACTIONS:
            raise Invalid(f"action must be one of {', '.join(ACTIONS)}")
        if not lease_token:
            raise Invalid("a decision needs the lease token of the claim")
        techs = sorted({str(t)[:64] for t in (techniques or []) if str(t).strip()})
        if action == "reject" and not techs:
            raise Invalid("a rejection names at least one technique")
        if action != "reject":
            techs = []
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                cur = conn.execute(select(items).where(items.c.id == item_id)).first()
                if cur is None:
                    raise NotFound(f"no item {item_id}")
                lease_ok = and_(items.c.id == item_id, items.c.status == "pending",
                                items.c.lease_token == lease_token,
                                items.c.claimed_by == moderator,
                                items.c.lease_expires_at >= now)
                if action == "skip":
                    values: dict[str, Any] = {"skip_count": items.c.skip_count + 1}
                else:
                    values = {"status": "decided",
                              "label": "farm" if action == "reject" else "clean",
                              "techniques": techs, "decided_by": moderator, "decided_at": now}
                won = conn.execute(update(items).where(lease_ok).values(
                    claimed_by=None, lease_token=None, lease_expires_at=None, **values)).rowcount
                if won != 1:
                    raise _LeaseLost()
                dec_id = conn.execute(insert(decisions).values(
                    item_id=item_id, page_id=cur.page_id, moderator=moderator, action=action,
                    techniques=techs, lease_token=lease_token, model_name=cur.model_name,
                    model_version=cur.model_version, risk=cur.risk,
                    originality=cur.originality, quality=cur.quality, created_at=now,
                ).returning(decisions.c.id)).scalar_one()
                conn.execute(update(items).where(items.c.id == item_id)
                             .values(last_decision_id=dec_id))
        except (_LeaseLost, IntegrityError):
            prior = self._decision_by_lease(item_id, lease_token)
            if prior is not None and prior["moderator"] == moderator:
                if (prior["action"], sorted(prior["techniques"] or [])) == (action, techs):
                    return {**prior, "replayed": True}
                raise Conflict(f"this lease was already used to {prior['action']} the item; "
                               "undo it to change the decision") from None
            raise Conflict("the lease has expired or the item is held by someone else; "
                           "claim it again") from None
        return {**self.get_decision(dec_id), "replayed": False}

    def _decision_by_lease(self, item_id: int, token: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(decisions).where(
                decisions.c.item_id == item_id, decisions.c.lease_token == token)).first()
        return _decision_dict(row) if row else None

    def undo(self, moderator: str) -> dict:
        """Revert the moderator's latest decision that is still in force (see module doc).

        Appends an 'undo' row; the item goes back to pending, leased to the moderator (whose
        other lease, e.g. on the next item they were shown, is released).
        """
        now = utcnow()
        token = secrets.token_urlsafe(24)
        undone = decisions.alias("undone")
        with self.engine.begin() as conn:
            # the latest of my decisions still in force on its item (one another moderator
            # has since superseded is not mine to revert, and does not block older ones)
            target = conn.execute(
                select(decisions).where(
                    decisions.c.moderator == moderator, decisions.c.action.in_(ACTIONS),
                    ~exists().where(undone.c.undoes_id == decisions.c.id),
                    exists().where(items.c.id == decisions.c.item_id,
                                   items.c.last_decision_id == decisions.c.id))
                .order_by(decisions.c.id.desc()).limit(1)).first()
            if target is None:
                raise Conflict("nothing to undo")
            won = conn.execute(update(items).where(
                items.c.id == target.item_id, items.c.last_decision_id == target.id,
                or_(items.c.claimed_by.is_(None), items.c.claimed_by == moderator,
                    items.c.lease_expires_at < now),
            ).values(status="pending", label=None, techniques=None, decided_by=None,
                     decided_at=None, claimed_by=moderator, lease_token=token,
                     lease_expires_at=now + self.lease, last_decision_id=None)).rowcount
            if won != 1:
                raise Conflict(f"cannot undo the {target.action} of {target.page_id}: "
                               "someone else has the item now")
            self._release_others(conn, moderator, keep=target.item_id)
            dec_id = conn.execute(insert(decisions).values(
                item_id=target.item_id, page_id=target.page_id, moderator=moderator,
                action="undo", techniques=[], lease_token=None, undoes_id=target.id,
                model_name=target.model_name, model_version=target.model_version,
                risk=target.risk, originality=target.originality, quality=target.quality,
                created_at=now).returning(decisions.c.id)).scalar_one()
        return {**self.get_decision(dec_id), "undone": _decision_dict(target)}

    # ---- reading --------------------------------------------------------------------
    def get_item(self, item_id: int) -> dict:
        """One item with its scores, evidence, source (and source text when known)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(items).where(items.c.id == item_id)).first()
            if row is None:
                raise NotFound(f"no item {item_id}")
            d = _item_dict(row, full=True)
            src = d["source"]
            if isinstance(src, dict) and src.get("id") is not None:
                st = conn.execute(select(source_texts.c.text).where(
                    source_texts.c.source_id == str(src["id"]))).scalar()
                if st is None and self.source_lookup is not None:
                    st = self.source_lookup(str(src["id"]))
                d["source_text"] = st
            else:
                d["source_text"] = None
        return d

    def list_items(self, view: str = "priority", technique: str | None = None,
                   status: str | None = "pending", limit: int = 50, offset: int = 0) -> list[dict]:
        """A page of items (no text) in a view's order, optionally of one technique."""
        q = select(*[c for c in items.c if c.name not in ("text", "evidence", "lease_token")])
        if status:
            q = q.where(items.c.status == status)
        tf = self._technique_filter(technique)
        if tf is not None:
            q = q.where(tf)
        q = q.order_by(*self._order(view)).limit(max(1, min(limit, 500))).offset(max(0, offset))
        with self.engine.connect() as conn:
            return [_item_dict(r) for r in conn.execute(q)]

    def counts(self) -> dict[str, int]:
        """How many items are pending, claimed right now, and decided."""
        now = utcnow()
        with self.engine.connect() as conn:
            rows = dict(conn.execute(select(items.c.status, func.count()).group_by(items.c.status)).all())
            claimed = conn.execute(select(func.count()).where(
                items.c.status == "pending", items.c.lease_expires_at >= now)).scalar_one()
        return {"pending": rows.get("pending", 0), "claimed": claimed,
                "decided": rows.get("decided", 0)}

    def techniques(self) -> list[tuple[str, int]]:
        """Technique names with their number of pending items (for the filter menu)."""
        q = (select(item_techniques.c.technique, func.count())
             .join(items, items.c.id == item_techniques.c.item_id)
             .where(items.c.status == "pending")
             .group_by(item_techniques.c.technique).order_by(item_techniques.c.technique))
        with self.engine.connect() as conn:
            return [(t, n) for t, n in conn.execute(q)]

    def get_decision(self, dec_id: int) -> dict:
        with self.engine.connect() as conn:
            return _decision_dict(conn.execute(select(decisions).where(decisions.c.id == dec_id)).one())

    def log(self, limit: int = 200, moderator: str | None = None,
            item_id: int | None = None) -> list[dict]:
        """The audit trail, newest first."""
        q = select(decisions).order_by(decisions.c.id.desc()).limit(max(1, min(limit, 10_000)))
        if moderator:
            q = q.where(decisions.c.moderator == moderator)
        if item_id is not None:
            q = q.where(decisions.c.item_id == item_id)
        with self.engine.connect() as conn:
            return [_decision_dict(r) for r in conn.execute(q)]

    def export(self) -> Iterator[dict]:
        """The labelled data set: one record per approved or rejected item, current state
        (an undone decision is not in it). The contract ``farmscore train`` reads::

            {"id", "text", "url", "label": "farm"|"clean", "techniques": [...],
             "moderator", "decided_at", "model_name", "model_version",
             "scores": {"originality", "quality", "risk", "signals"}}
        """
        q = select(items).where(items.c.status == "decided").order_by(items.c.decided_at, items.c.id)
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=200).execute(q):
                yield {"id": r.page_id, "text": r.text, "url": r.url, "label": r.label,
                       "techniques": list(r.techniques or []), "moderator": r.decided_by,
                       "decided_at": _iso(r.decided_at), "model_name": r.model_name,
                       "model_version": r.model_version,
                       "scores": {"originality": r.originality, "quality": r.quality,
                                  "risk": r.risk, "signals": r.signals}}


class _LeaseLost(Exception):
    """Internal: the conditional UPDATE matched no row."""


def _item_dict(row, full: bool = False) -> dict:
    """A stored item as a dict; JSON columns are read through the record schema, so a row
    written before validation (or by hand) shows what is valid and never breaks a view."""
    d = dict(row._mapping)
    for k in ("created_at", "decided_at", "lease_expires_at"):
        if k in d:
            d[k] = _iso(d[k])
    d.pop("lease_token", None) if not full else None
    signals = d.get("signals")
    d["signals"] = {str(k): float(v) for k, v in signals.items()
                    if not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
                    } if isinstance(signals, dict) else {}
    if "evidence" in d:
        text = d.get("text") if isinstance(d.get("text"), str) else ""
        try:
            d["evidence"] = _spans(d["evidence"], text, "evidence")
        except Invalid:
            d["evidence"] = []
    if "source" in d:
        d["source"] = safe_source(d["source"])
    if "techniques" in d and not isinstance(d["techniques"], (list, type(None))):
        d["techniques"] = None
    d["techniques_detected"] = techniques_of(d["signals"])
    return d


def _decision_dict(row) -> dict:
    d = dict(row._mapping)
    d["created_at"] = _iso(d["created_at"])
    d.pop("lease_token", None)  # a lease token is a capability; never shown in the log
    return d
