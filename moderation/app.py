"""The moderation queue as a standalone FastAPI app: a JSON API under ``/api`` and HTML pages.

``create_queue_app(db_url)`` is self-contained so it can run alone (``farmscore queue
serve``) or be mounted under the scoring API (``api.mount("/queue", create_queue_app(url))``):
every link, form and script URL is built from the request's ``root_path``, so the pages work
at ``/`` and at ``/queue/`` alike.

Pages: ``/`` (the queue: views by priority, newest, score; filter by technique),
``/review`` (claim and triage, keyboard driven), ``/items/{id}`` (read-only item view),
``/log`` (the audit trail), ``/export`` (the labelled data set, JSONL), ``/login``.

Safety: page text only ever reaches HTML through Jinja2 autoescape and the script only uses
``textContent``; a Content-Security-Policy forbids inline scripts as a second wall. Cookie
sessions are SameSite=Lax, and state-changing API calls authenticated by cookie must be
``application/json`` (which a cross-site form cannot send); the one state-changing form
(claiming on ``POST /review``; a GET claims nothing) carries a CSRF token bound to the
session, and it and the sign-in and sign-out forms refuse an ``Origin``/``Referer`` of
another host. Sessions are rows: sign-out, a password change and deactivation end them. Every body
is limited (64 KB for sign-in), failed sign-ins are throttled per name and per address,
argon2 runs off the event loop, parameters that no database could take are 4xx, and an
unhandled error is a complete 500 that keeps the connection usable (issue 19).
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path as PathParam, Query, Request
from starlette.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from farmscore.jsonl import valid_id
from moderation.auth import SESSION_COOKIE, Sessions, default_secret
from moderation.db import default_db_url, make_engine, migrate
from moderation.highlight import css_class, likely_original, segments, source_segments
from moderation.service import (ACTIONS, DEFAULT_LEASE_SECONDS, VIEWS, Invalid, ModerationQueue,
                                QueueError)
from serving.limits import Admission, BodyLimitMiddleware, ErrorMiddleware, ParamGuardMiddleware

HERE = Path(__file__).resolve().parent
#: Techniques a moderator can name beyond the item's own signals (which already name
#: ``copied`` and ``spinning``: "copy" and "spun" were the same boxes twice).
EXTRA_TECHNIQUES = ("paraphrase", "rewrite", "other")
#: Older names of a signal's technique (decisions made before they were merged) -> its name.
TECHNIQUE_ALIASES = {"copy": "copied", "spun": "spinning"}
#: The key that toggles each technique box, in order: none of them decides (a, x, space,
#: backspace, ?), so every box has a key, however many there are.
TECHNIQUE_KEYS = "1234567890qwertyuiop"
#: Evidence spans highlighted and listed on an item page; the rest are counted, not shown
#: (a record with 12,000 spans is unreadable anyway, and each span costs page size).
MAX_SPANS_SHOWN = 500
#: Bodies of sign-in requests: a name and a password need far less than this.
LOGIN_MAX_BODY_BYTES = 64 * 1024
#: Failed sign-ins allowed per name and per client address in a sliding window.
DEFAULT_LOGIN_LIMITS = {"per_name": 10, "per_address": 50, "window_s": 300}
#: Largest integer a path or query parameter may be (the id columns are 32-bit on PostgreSQL).
MAX_INT = 2**31 - 1
ItemId = PathParam(ge=1, le=MAX_INT, description="item id")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _base(request: Request) -> str:
    """The URL prefix the app is served under ('' standalone, '/queue' when mounted)."""
    return (request.scope.get("root_path") or "").rstrip("/")


def score_text(v) -> str:
    """A score in [0, 1] with enough decimals to tell close ones apart: two in the middle,
    and near 0 or 1 two significant digits of the distance to it (0.9997 and 0.9982 both
    read 1.00 with two decimals: the demo's four farms looked alike). At most six."""
    if v is None:
        return "–"
    v = float(v)
    gap = min(v, 1.0 - v)
    decimals = 2 if gap >= 0.01 or gap <= 0 else min(6, 1 - math.floor(math.log10(gap)))
    return f"{v:.{decimals}f}"


def create_queue_app(db_url: str | None = None, scorer: Any = None, *,
                     risk_threshold: float | None = None,
                     lease_seconds: int = DEFAULT_LEASE_SECONDS,
                     secret_key: str | None = None, run_migrations: bool = True,
                     scorer_factory: Callable[[], Any] | None = None,
                     source_lookup: Callable[[str], str | None] | None = None,
                     secure_cookies: bool | None = None,
                     max_body_bytes: int | None = None,
                     max_inflight_body_bytes: int | None = None,
                     max_inflight_requests: int | None = None,
                     login_limits: dict | None = None) -> FastAPI:
    """Build the queue app over ``db_url`` (default ``$FARMSCORE_DB`` or a SQLite file).

    ``scorer`` scores texts posted to ``/api/items`` (built lazily with ``build_scorer()``
    when None); ``source_lookup(source_id)`` may return a source's text when records did
    not carry it; ``run_migrations`` upgrades the database to head first.
    ``max_body_bytes`` (default ``$FARMSCORE_MAX_BODY_BYTES``, as the scoring API) bounds
    every request body, sign-in bodies to 64 KB; ``max_inflight_body_bytes`` and
    ``max_inflight_requests`` cap all requests at once (``serving.limits.Admission``, the
    API's settings and defaults); ``login_limits`` (per_name, per_address, window_s) bounds
    failed sign-ins.
    """
    from serving.settings import Settings

    limits = Settings.from_env(index=None, db=None, **{k: v for k, v in (
        ("max_body_bytes", max_body_bytes), ("max_inflight_body_bytes", max_inflight_body_bytes),
        ("max_inflight_requests", max_inflight_requests)) if v is not None})
    max_body_bytes = limits.max_body_bytes
    throttle = LoginThrottle(**(login_limits or DEFAULT_LOGIN_LIMITS))
    engine = make_engine(db_url or default_db_url())
    if run_migrations:
        migrate(engine)
    q = ModerationQueue(engine, risk_threshold=risk_threshold, lease_seconds=lease_seconds,
                        scorer=scorer, scorer_factory=scorer_factory, source_lookup=source_lookup)
    sessions = Sessions(secret_key or default_secret())
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["evclass"] = css_class
    env.filters["pct"] = score_text
    env.filters["prio"] = lambda v: f"{float(v):.3f}" if v is not None else "–"

    app = FastAPI(title="farmscore moderation queue", docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None)
    app.state.queue = q
    app.state.engine = engine
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        resp = await call_next(request)
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    @app.exception_handler(QueueError)
    async def _queue_error(_request: Request, exc: QueueError):
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(TooManyLogins)
    async def _too_many(request: Request, exc: TooManyLogins):
        headers = {"Retry-After": str(exc.retry_after)}
        if request.url.path.endswith("/api/login"):
            return JSONResponse({"detail": str(exc)}, status_code=429, headers=headers)
        resp = render(request, "login.html", None, next="", error=str(exc))
        resp.status_code = 429
        resp.headers.update(headers)
        return resp

    # ---- who is asking --------------------------------------------------------------
    def request_token(request: Request) -> tuple[str | None, bool]:
        """(session token, whether it came as the cookie) of a request."""
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if token is not None:
            return token, False
        return request.cookies.get(SESSION_COOKIE), True

    def current_moderator(request: Request, csrf_checked: bool = False) -> str | None:
        """The signed-in moderator of a request, or None. A state-changing request with the
        session cookie must be JSON (which no cross-site form can send), unless the caller
        has checked the form's CSRF token (``csrf_checked``)."""
        token, via_cookie = request_token(request)
        got = sessions.read(token)
        if got is None:
            return None
        name, sid = got
        # the session still lives (not signed out, no password change since) and its
        # moderator is active
        if q.session_moderator(sid) != name:
            return None
        if via_cookie and not csrf_checked and request.method not in ("GET", "HEAD", "OPTIONS"):
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise HTTPException(415, "API calls with a session cookie must send application/json")
        return name

    def api_user(request: Request) -> str:
        name = current_moderator(request)
        if name is None:
            raise HTTPException(401, "sign in first (POST /api/login, or the login page)",
                                headers={"WWW-Authenticate": "Bearer"})
        return name

    async def _sign_in(request: Request, name: str, pw: str) -> str | None:
        """Check a sign-in off the event loop (argon2 costs ~50 ms of CPU), throttled per
        name and per client address (a refused attempt counts against both), and start a
        session: its signed token, or None when refused."""
        addr = request.client.host if request.client else "?"
        throttle.check(name, addr)
        if len(name) > 100 or len(pw) > 1024:  # no such moderator; no hashing of megabytes
            sid = None
        else:
            sid = await run_in_threadpool(q.open_session, name, pw, sessions.max_age)
        if sid is None:
            throttle.failed(name, addr)
            return None
        return sessions.issue(name, sid)

    def _sign_out(token: str | None) -> bool:
        got = sessions.read(token)
        return got is not None and q.end_session(got[1])

    def render(request: Request, template: str, user: str | None, **ctx) -> HTMLResponse:
        base = _base(request)
        cookie = request.cookies.get(SESSION_COOKIE)
        csrf = sessions.csrf_token(cookie) if user and cookie else ""
        html = env.get_template(template).render(base=base, user=user, request=request,
                                                 csrf=csrf, **ctx)
        return HTMLResponse(html)

    def set_session(request: Request, resp: Response, token: str) -> None:
        secure = request.url.scheme == "https" if secure_cookies is None else secure_cookies
        resp.set_cookie(SESSION_COOKIE, token, max_age=sessions.max_age,
                        path=(_base(request) or "") + "/", httponly=True, samesite="lax",
                        secure=secure)

    # ---- JSON API -------------------------------------------------------------------
    api = APIRouter(prefix="/api")

    @api.post("/login")
    async def api_login(request: Request) -> JSONResponse:
        """Sign in: returns a Bearer token and sets the session cookie."""
        body = await _json_body(request)
        name, pw = body.get("name", ""), body.get("password", "")
        if not isinstance(name, str) or not isinstance(pw, str):
            raise Invalid("'name' and 'password' must be strings")
        token = await _sign_in(request, name, pw)
        if token is None:
            raise HTTPException(401, "wrong name or password")
        resp = JSONResponse({"moderator": name, "token": token})
        set_session(request, resp, token)
        return resp

    @api.post("/logout")
    def api_logout(request: Request, user: str = Depends(api_user)) -> JSONResponse:
        """Sign out: the session of this request's token (Bearer or cookie) ends."""
        _sign_out(request_token(request)[0])
        resp = JSONResponse({"signed_out": user})
        resp.delete_cookie(SESSION_COOKIE, path=(_base(request) or "") + "/")
        return resp

    @api.get("/me")
    def api_me(user: str = Depends(api_user)) -> dict:
        return {"moderator": user}

    async def post_items(request: Request, user: str = Depends(api_user)) -> JSONResponse:
        """Offer a page to the queue: ``{"text", "id"?, "url"?, "force"?}`` is scored here;
        a scored record (``farmscore score`` output plus ``text``), bare or as
        ``{"record": {...}}``, is taken as it is. Queued only when risk >= threshold."""
        body = await _json_body(request)
        force = bool(body.get("force", False))
        rec = body.get("record", body)
        if not isinstance(rec, dict):
            raise Invalid("'record' must be an object")
        if "originality" in rec or "quality" in rec:
            res = q.enqueue(rec, force=force)
        else:
            text = rec.get("text")
            if not isinstance(text, str):
                raise Invalid("send 'text' (to be scored) or a scored record")
            pid = rec.get("id")
            if pid is not None and not valid_id(pid):  # str(True) would become the id "True"
                raise Invalid("'id' must be a non-empty string or a finite number "
                              f"(not {type(pid).__name__} {json.dumps(pid)[:40]})")
            if pid is None:
                import hashlib

                pid = "sha1:" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
            from starlette.concurrency import run_in_threadpool

            res = await run_in_threadpool(q.enqueue_text, text, str(pid), rec.get("url"), force)
        return JSONResponse(res.to_dict(), status_code=201 if res.queued else 200)

    api.add_api_route("/items", post_items, methods=["POST"])

    @api.get("/items")
    def api_list(view: str = "priority", technique: str | None = None,
                 status: str | None = "pending", limit: int = Query(50, ge=1, le=MAX_INT),
                 offset: int = Query(0, ge=0, le=MAX_INT),
                 user: str = Depends(api_user)) -> dict:
        return {"items": q.list_items(view, technique, status or None, limit, offset),
                "counts": q.counts()}

    @api.get("/items/{item_id}")
    def api_item(item_id: int = ItemId, user: str = Depends(api_user)) -> dict:
        return _visible(q.get_item(item_id), user)

    @api.post("/claim")
    async def api_claim(request: Request, user: str = Depends(api_user)) -> dict:
        body = await _json_body(request, allow_empty=True)
        from starlette.concurrency import run_in_threadpool

        item = await run_in_threadpool(q.claim_next, user, str(body.get("view", "priority")),
                                       body.get("technique") or None)
        return {"item": _visible(item, user) if item else None}

    @api.post("/items/{item_id}/claim")
    def api_claim_item(item_id: int = ItemId, user: str = Depends(api_user)) -> dict:
        return {"item": _visible(q.claim_item(user, item_id), user)}

    @api.post("/items/{item_id}/decision")
    async def api_decide(request: Request, item_id: int = ItemId, user: str = Depends(api_user)) -> JSONResponse:
        """approve / reject (with techniques) / skip, under the lease token of the claim."""
        body = await _json_body(request)
        techs = body.get("techniques") or []
        if not isinstance(techs, list):
            raise Invalid("'techniques' must be a list of names")
        from starlette.concurrency import run_in_threadpool

        dec = await run_in_threadpool(q.decide, user, item_id, str(body.get("lease_token", "")),
                                      str(body.get("action", "")), techs)
        return JSONResponse(dec, status_code=200 if dec["replayed"] else 201)

    @api.post("/items/{item_id}/renew")
    async def api_renew(request: Request, item_id: int = ItemId, user: str = Depends(api_user)) -> dict:
        body = await _json_body(request)
        until = q.renew(user, item_id, str(body.get("lease_token", "")))
        return {"lease_expires_at": until.isoformat(timespec="seconds") + "Z"}

    @api.post("/items/{item_id}/release")
    async def api_release(request: Request, item_id: int = ItemId, user: str = Depends(api_user)) -> dict:
        body = await _json_body(request)
        q.release(user, item_id, str(body.get("lease_token", "")))
        return {"released": item_id}

    @api.post("/undo")
    def api_undo(user: str = Depends(api_user)) -> dict:
        """Undo my latest decision still in force (appends an 'undo' entry)."""
        return q.undo(user)

    @api.get("/log")
    def api_log(limit: int = Query(200, ge=1, le=MAX_INT), moderator: str | None = None,
                item_id: int | None = Query(None, ge=1, le=MAX_INT),
                user: str = Depends(api_user)) -> dict:
        return {"decisions": q.log(limit, moderator, item_id)}

    @api.get("/stats")
    def api_stats(user: str = Depends(api_user)) -> dict:
        return {**q.counts(), "risk_threshold": q.risk_threshold,
                "techniques": dict(q.techniques())}

    @api.get("/export")
    def api_export(user: str = Depends(api_user)) -> StreamingResponse:
        return _export_response()

    app.include_router(api)
    # the issue names it POST /items; the same handler answers there too
    app.add_api_route("/items", post_items, methods=["POST"], include_in_schema=False)

    def _export_response() -> StreamingResponse:
        def lines():
            for rec in q.export():
                yield json.dumps(rec, ensure_ascii=False) + "\n"
        return StreamingResponse(lines(), media_type="application/x-ndjson", headers={
            "Content-Disposition": 'attachment; filename="farmscore-labels.jsonl"'})

    # ---- HTML pages -----------------------------------------------------------------
    def page_user(request: Request) -> str | None:
        return current_moderator(request)

    def to_login(request: Request) -> RedirectResponse:
        nxt = request.url.path
        if request.url.query:
            nxt += "?" + request.url.query
        return RedirectResponse(f"{_base(request)}/login?{urlencode({'next': nxt})}", 303)

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "", error: str = "") -> HTMLResponse:
        return render(request, "login.html", None, next=next, error=error)

    @app.post("/login")
    async def login_submit(request: Request) -> Response:
        _same_origin(request)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        name = (form.get("name") or [""])[0]
        pw = (form.get("password") or [""])[0]
        nxt = (form.get("next") or [""])[0]
        base = _base(request)
        if "\x00" in name or "\x00" in pw or "\x00" in nxt:
            return render(request, "login.html", None, next="", error="Wrong name or password.")
        token = await _sign_in(request, name, pw)
        if token is None:
            return render(request, "login.html", None, next=nxt,
                          error="Wrong name or password.")
        # only ever redirect inside this app (no open redirect through ?next=)
        target = nxt if nxt.startswith(base + "/") and not nxt.startswith("//") else base + "/"
        resp = RedirectResponse(target, 303)
        set_session(request, resp, token)
        return resp

    @app.post("/logout")
    def logout(request: Request) -> RedirectResponse:
        """Sign out: the session ends (its row goes), not only the cookie."""
        _same_origin(request)
        _sign_out(request.cookies.get(SESSION_COOKIE))
        resp = RedirectResponse(f"{_base(request)}/login", 303)
        resp.delete_cookie(SESSION_COOKIE, path=(_base(request) or "") + "/")
        return resp

    @app.get("/", response_class=HTMLResponse)
    def queue_page(request: Request, view: str = "priority", technique: str = "",
                   status: str = "pending") -> Response:
        user = page_user(request)
        if user is None:
            return to_login(request)
        if view not in VIEWS:
            view = "priority"
        status = status if status in ("pending", "decided") else "pending"
        rows = q.list_items(view, technique or None, status, limit=200)
        return render(request, "queue.html", user, rows=rows, view=view, views=VIEWS,
                      technique=technique, techniques=q.techniques(), counts=q.counts(),
                      status=status, threshold=q.risk_threshold)

    def review_qs(view: str, technique: str, **more: str) -> str:
        return urlencode({k: v for k, v in (("view", view), ("technique", technique), *more.items()) if v})

    @app.get("/review", response_class=HTMLResponse)
    def review_page(request: Request, view: str = "priority", technique: str = "",
                    empty: str = "") -> Response:
        """The item this moderator holds, or a form to claim the next one. A GET claims
        nothing (prefetches, link previews and crawlers must not lease items): claiming is
        ``POST /review`` (this page's form) or ``POST /api/claim`` (the page's script)."""
        user = page_user(request)
        if user is None:
            return to_login(request)
        if view not in VIEWS:
            view = "priority"
        item = q.held_item(user)
        return render(request, "review.html", user, **_item_context(item), view=view,
                      technique=technique, counts=q.counts(), reviewing=True,
                      empty=item is None and empty == "1", review_qs=review_qs(view, technique))

    @app.post("/review")
    async def review_claim(request: Request) -> Response:
        """Claim the next item (the review page's form), then show it (303 to GET /review).
        The form must come from this site and carry the session's CSRF token."""
        _same_origin(request)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        if not sessions.csrf_ok(request.cookies.get(SESSION_COOKIE), (form.get("csrf") or [""])[0]):
            raise HTTPException(403, "the form's CSRF token is missing or not this session's; reload the page")
        user = await run_in_threadpool(current_moderator, request, True)
        if user is None:
            return to_login(request)
        view = (form.get("view") or ["priority"])[0]
        view = view if view in VIEWS else "priority"
        technique = (form.get("technique") or [""])[0]
        if "\x00" in technique:
            raise Invalid("the technique holds a NUL character")
        item = await run_in_threadpool(q.claim_next, user, view, technique or None)
        qs = review_qs(view, technique, empty="" if item else "1")
        return RedirectResponse(f"{_base(request)}/review" + (f"?{qs}" if qs else ""), 303)

    @app.get("/items/{item_id}", response_class=HTMLResponse)
    def item_page(request: Request, item_id: int = ItemId) -> Response:
        user = page_user(request)
        if user is None:
            return to_login(request)
        item = q.get_item(item_id)
        return render(request, "review.html", user, **_item_context(item), view="priority",
                      technique="", counts=q.counts(), reviewing=False, review_qs="",
                      history=q.log(50, item_id=item_id))

    @app.get("/log", response_class=HTMLResponse)
    def log_page(request: Request, moderator: str = "") -> Response:
        user = page_user(request)
        if user is None:
            return to_login(request)
        return render(request, "log.html", user, rows=q.log(500, moderator or None),
                      moderator=moderator)

    @app.get("/export")
    def export_page(request: Request) -> Response:
        if page_user(request) is None:
            return to_login(request)
        return _export_response()

    def body_limit(scope) -> int:
        path = scope.get("path", "")
        return LOGIN_MAX_BODY_BYTES if path.endswith(("/login", "/logout", "/review")) else max_body_bytes

    # outermost last: errors become answers, then bad parameters, then the body limit
    app.state.admission = Admission(limits.max_inflight_requests, limits.body_budget,
                                    limits.retry_after_s)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes, limit_for=body_limit,
                       admission=app.state.admission, body_timeout_s=limits.timeout_s)
    app.add_middleware(ParamGuardMiddleware)
    app.add_middleware(ErrorMiddleware)
    return app


def _visible(item: dict, user: str) -> dict:
    """An item as the API shows it: the lease token only to the moderator holding it."""
    out = dict(item)
    if out.get("claimed_by") != user:
        out.pop("lease_token", None)
    return out


def _item_context(item: dict | None) -> dict:
    """Everything the item template needs, computed here so the template stays dumb.

    The item comes through the record schema on read (``service._item_dict``), so every
    field has its type; at most :data:`MAX_SPANS_SHOWN` evidence spans are highlighted and
    listed (the first by position), and the page says how many there are."""
    if item is None:
        return {"item": None}
    signals = sorted(((k, v) for k, v in (item["signals"] or {}).items() if v > 0),
                     key=lambda kv: (-kv[1], kv[0]))
    detected = set(item["techniques_detected"])
    src = item.get("source") if isinstance(item.get("source"), dict) else None
    if src:
        detected.add("copied")
    vocab = list(dict.fromkeys([*sorted(item["signals"] or {}), *EXTRA_TECHNIQUES]))
    chosen = {TECHNIQUE_ALIASES.get(t, t) for t in item.get("techniques") or []} or detected
    vocab += [t for t in sorted(chosen) if t not in vocab]
    all_ev = item["evidence"] or []
    shown = sorted(all_ev, key=lambda ev: (ev["start"], ev["end"]))[:MAX_SPANS_SHOWN]
    evidence = []
    for i, ev in enumerate(shown):
        evidence.append({**ev, "index": i, "css": css_class(ev["signal"]),
                         "likely_original": likely_original(ev.get("detail", ""))})
    src_segs = None
    if src and isinstance(item.get("source_text"), str) and item["source_text"]:
        src_segs = source_segments(item["source_text"], src.get("matched") or [])
    return {"item": item, "signals": signals, "segments": segments(item["text"], shown),
            "evidence": evidence, "evidence_total": len(all_ev), "source": src,
            "source_segments": src_segs,
            "vocab": [(t, t in chosen, TECHNIQUE_KEYS[i] if i < len(TECHNIQUE_KEYS) else "")
                      for i, t in enumerate(vocab)], "actions": ACTIONS}


class TooManyLogins(Exception):
    """Too many failed sign-ins for a name or from an address: answer 429 with Retry-After."""

    def __init__(self, reason: str, retry_after: int):
        super().__init__(reason)
        self.retry_after = retry_after


class LoginThrottle:
    """Failed sign-ins per name and per client address in a sliding window (this process).

    Why both: per name stops guessing one moderator's password from many addresses; per
    address stops one client trying many names. Only failures count, so a moderator who
    signs in correctly is never slowed; while a name or address is over its limit every
    attempt is refused unchecked (no hash is computed, so a flood costs no CPU either).
    Kept in memory: with several server processes each counts its own share (documented)."""

    def __init__(self, per_name: int, per_address: int, window_s: float, max_keys: int = 100_000):
        self.per_name, self.per_address, self.window = per_name, per_address, float(window_s)
        self.max_keys = max_keys
        self._fails: dict[tuple[str, str], deque] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque:
        d = self._fails.get(key)
        if d is None:
            if len(self._fails) >= self.max_keys:  # bounded memory under a flood of names
                self._fails = {k: v for k, v in self._fails.items() if v and v[-1] > now - self.window}
                if len(self._fails) >= self.max_keys:
                    self._fails.clear()
            d = self._fails[key] = deque()
        while d and d[0] <= now - self.window:
            d.popleft()
        return d

    def check(self, name: str, address: str) -> None:
        now = time.monotonic()
        for key, limit, what in ((("n", name[:200]), self.per_name, "for this name"),
                                 (("a", address), self.per_address, "from this address")):
            d = self._recent(key, now)
            if len(d) >= limit:
                wait = max(1, int(d[0] + self.window - now) + 1)
                raise TooManyLogins(f"too many failed sign-ins {what}; try again in {wait} s", wait)

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        for key, limit in ((("n", name[:200]), self.per_name), (("a", address), self.per_address)):
            d = self._recent(key, now)
            d.append(now)
            while len(d) > limit:
                d.popleft()


def _same_origin(request: Request) -> None:
    """Refuse a sign-in or sign-out form posted from another site (login CSRF: a page
    elsewhere signing the browser in as the attacker, or out). Browsers send ``Origin`` on
    every cross-site POST; when it is there it must name this host. (No ``Origin`` and no
    ``Referer``: a script or an old browser, allowed: CSRF needs a browser.)"""
    from urllib.parse import urlsplit

    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return
    host = request.headers.get("host", "")
    if claimed == "null" or urlsplit(claimed).netloc != host:
        raise HTTPException(403, "cross-site sign-in and sign-out forms are refused")


def _has_bad_string(obj: Any) -> str | None:
    """A reason when a parsed JSON value holds a NUL (PostgreSQL cannot store or compare
    it), else None. orjson already refuses lone surrogates, NaN and nesting past 1024."""
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            if "\x00" in x:
                return "a string holds a NUL character (U+0000)"
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return None


async def _json_body(request: Request, allow_empty: bool = False) -> dict:
    raw = await request.body()
    if not raw.strip():
        if allow_empty:
            return {}
        raise Invalid("send a JSON object")
    try:
        body = orjson.loads(raw)  # strict: no NaN, no lone surrogates, depth <= 1024
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"malformed JSON (or not UTF-8): {exc}") from None
    if not isinstance(body, dict):
        raise Invalid("send a JSON object")
    bad = _has_bad_string(body)
    if bad:
        raise Invalid(bad)
    return body
