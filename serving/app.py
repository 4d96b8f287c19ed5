"""The scoring API for crawlers: ``POST /v1/score`` (one page or a batch), health, metrics.

    uvicorn serving.app:app            # or: farmscore serve --port 8000 --workers 2

Design, and why:

* The scorer is built once per process in the lifespan (``scoring.score.build_scorer``, the
  same one the CLI and the queue use, with ``$FARMSCORE_INDEX`` passed through) and warmed
  up on a small page, so lazily loaded model files load before the first request and
  ``/readyz`` only says ready when scoring really works.
* Scoring is CPU-bound Python, so it never runs on the event loop: each request's job runs
  in a bounded thread pool (:class:`serving.limits.ScoringPool`), one thread per job; the
  loop stays free for health checks, metrics and refusing overload quickly. A batch is one
  job in one thread; with ``FARMSCORE_BATCH_PROCESSES=N`` it shares its pages with N
  long-lived helper processes (:mod:`serving.batch_pool`), so one batch uses more than one
  core. More cores are also used by ``--workers N`` processes.
* The body is parsed by hand (orjson) instead of by FastAPI's body parameter, so every bad
  request gets a precise status and JSON reason (415 wrong content type, 400 malformed
  JSON / invalid UTF-8 / binary, 422 schema), and pages of a batch are validated one by one:
  a bad page becomes an error record in its place and never fails the other pages. The
  pydantic models still document the request and responses in the OpenAPI document.
* Responses are encoded with orjson from the scorer's dicts and returned as raw
  ``Response`` objects, skipping FastAPI's response-model validation (which would cost more
  than scoring a small page); ``tests/test_api.py`` checks the records against the models.

This module never imports ``training/`` (the farm simulator and model training): serving
depends on ``scoring/`` and ``features/`` only.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import time
from contextlib import asynccontextmanager
from typing import Any, Union

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from farmscore import __version__
from serving.batch import WARMUP_TEXT, Item, dumps, score_item, score_items
from serving.limits import (Admission, BodyLimitMiddleware, ErrorMiddleware, Overloaded, ScoringPool,
                            TimedOut, error_body)
from serving.metrics import Metrics, MetricsMiddleware
from serving.schemas import (BatchIn, BatchResponse, ErrorResponse, PageError, PageIn,
                             ReadyResponse, ScoreResponse)
from serving.settings import Settings

log = logging.getLogger("farmscore.serving")

_PAGE = TypeAdapter(PageIn)
JSON = "application/json"


class ApiError(Exception):
    """A refused request: status, machine-readable code, reason, optional field."""

    def __init__(self, status: int, code: str, reason: str, field: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(reason)
        self.status, self.code, self.reason, self.field = status, code, reason, field
        self.headers = headers or {}

    def response(self) -> Response:
        extra = {"field": self.field} if self.field else {}
        return Response(error_body(self.code, self.reason, **extra), status_code=self.status,
                        media_type=JSON, headers=self.headers)


class ApiState:
    """Everything the lifespan builds: scorer, pools, model info, readiness."""

    def __init__(self, settings: Settings, metrics: Metrics):
        self.settings = settings
        self.metrics = metrics
        self.scorer = None
        self.model: dict[str, Any] | None = None
        self.model_json: bytes = b"null"
        self.startup_error: str | None = None
        self.pool: ScoringPool | None = None
        self.engine = None
        self.preloaded = None  # the index opened with FARMSCORE_INDEX_PRELOAD, closed at stop
        self.helpers = None  # serving.batch_pool.BatchHelpers with FARMSCORE_BATCH_PROCESSES

    # ---- startup / shutdown ------------------------------------------------------------
    def load(self) -> None:
        """Build and warm up the scorer (blocking; run in a thread by the lifespan)."""
        from features.schema import current_schema
        from scoring.score import build_scorer

        s = self.settings
        index = s.index
        if index and s.index_preload:
            from originality import open_index

            index = self.preloaded = open_index(index, create=False, preload=True)
        scorer = build_scorer(index=index, max_chars=s.max_text_chars)
        score_item(scorer, Item("text", "warmup", "text", WARMUP_TEXT), False, False)
        # The reference tables and model are millions of long-lived objects: a full garbage
        # collection walking them costs ~76 ms, a latency spike every few hundred requests.
        # Moved to the permanent generation, they are never walked again.
        gc.collect()
        gc.freeze()
        if s.batch_processes:
            from serving.batch_pool import BatchHelpers

            helpers = BatchHelpers(s.batch_processes, s.index, s.index_preload, s.max_text_chars)
            helpers.start()
            self.helpers = helpers
        model = {**scorer.model_info, "feature_schema_hash": current_schema().hash}
        self.scorer, self.model, self.model_json = scorer, model, dumps(model)
        self.metrics.set_model(model)

    async def start(self) -> None:
        s = self.settings
        m = self.metrics

        def changed(running: int, waiting: int) -> None:
            m.inflight.set(running)
            m.queued.set(waiting)

        self.pool = ScoringPool(s.max_inflight, s.max_queue, on_change=changed, max_wait_s=s.max_wait_s)
        try:
            await asyncio.to_thread(self.load)
        except Exception as exc:  # noqa: BLE001 - start, report not ready, keep serving /livez
            self.startup_error = f"{type(exc).__name__}: {exc}"
            log.exception("farmscore: the scorer failed to load; /readyz will say why")
        if s.db:
            try:
                self.engine = _make_engine(s.db)
            except Exception as exc:  # noqa: BLE001 - a bad URL is a readiness failure
                self.startup_error = self.startup_error or f"database URL: {type(exc).__name__}: {exc}"

    async def stop(self) -> None:
        if self.pool:
            self.pool.shutdown()
        if self.helpers is not None:
            await asyncio.to_thread(self.helpers.shutdown)
            self.helpers = None
        if self.scorer is not None:
            self.scorer.pipeline.close()  # an index the extractor opened from FARMSCORE_INDEX
        if self.preloaded is not None:
            self.preloaded.close()
            self.preloaded = None
        if self.engine is not None:
            self.engine.dispose()


def _make_engine(url: str):
    """A small SQLAlchemy engine for readiness checks (psycopg 3 for plain postgresql://)."""
    from sqlalchemy import create_engine

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if not url.startswith("sqlite"):
        kwargs.update(pool_size=1, max_overflow=1, pool_timeout=2)
        if url.startswith("postgresql"):
            kwargs["connect_args"] = {"connect_timeout": 2}
    return create_engine(url, **kwargs)


# ---- request parsing ----------------------------------------------------------------------
def _check_content_type(request: Request) -> None:
    ctype = request.headers.get("content-type")
    if not ctype:
        raise ApiError(415, "content_type", "no Content-Type; send the body as application/json")
    main, _, params = ctype.partition(";")
    main = main.strip().lower()
    if main != JSON and not (main.startswith("application/") and main.endswith("+json")):
        raise ApiError(415, "content_type", f"Content-Type {main!r} is not supported; send "
                                            "application/json (UTF-8)")
    for p in params.split(";"):
        k, _, v = p.partition("=")
        if k.strip().lower() == "charset" and v.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise ApiError(415, "content_type", f"charset {v.strip()!r} is not supported; send UTF-8")


def _parse_json(body: bytes) -> Any:
    """orjson on the happy path; on failure say whether it is binary, not UTF-8, or bad JSON."""
    if not body:
        raise ApiError(400, "empty", "the request body is empty; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        head = body[:8192]
        if b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > max(8, len(head) // 20):
            raise ApiError(400, "binary", "the body looks like binary data (NUL/control bytes), "
                                          "not JSON text") from None
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as ue:
            raise ApiError(400, "encoding", f"the body is not valid UTF-8: {ue.reason} at byte "
                                            f"{ue.start}; JSON must be UTF-8") from None
        raise ApiError(400, "json", f"malformed JSON: {exc}") from None


def _loc(prefix: str, loc: tuple) -> str:
    """``("pages", 3, "text")`` under prefix ``""`` -> ``pages[3].text``."""
    out = prefix
    for x in loc:
        if isinstance(x, int):
            out += f"[{x}]"
        elif x in ("str", "int"):  # union member tags of ``id: str | int``: not a field
            continue
        else:
            out = f"{out}.{x}" if out else str(x)
    return out or "body"


def _validation_reason(exc: ValidationError, prefix: str) -> tuple[str, str]:
    """(field, reason) naming every problem, e.g. ``pages[2].text: Input should be a valid string``."""
    problems: dict[str, str] = {}
    for e in exc.errors(include_url=False):
        field = _loc(prefix, tuple(e["loc"]))
        msg = e["msg"]
        if e["loc"] and e["loc"][-1] in ("str", "int"):  # the id union: one plain message
            msg = "must be a string or an integer"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        problems.setdefault(field, msg)
    first = next(iter(problems), prefix or "body")
    return first, "; ".join(f"{f}: {m}" for f, m in problems.items())


def _page_item(obj: Any, prefix: str, max_chars: int) -> Item:
    """Validate one page object into an :class:`Item`; :class:`ApiError` (422) if invalid."""
    where = prefix or "body"
    if not isinstance(obj, dict):
        raise ApiError(422, "type", f"{where} must be a JSON object with 'id' and 'text' or 'html', "
                                    f"got {type(obj).__name__}", field=where)
    try:
        page = _PAGE.validate_python(obj)
    except ValidationError as exc:
        field, reason = _validation_reason(exc, prefix)
        raise ApiError(422, "field", reason, field=field) from None
    kind = "text" if page.text is not None else "html"
    body = page.text if page.text is not None else page.html
    field = f"{prefix}.{kind}" if prefix else kind
    if len(body) > max_chars:
        raise ApiError(422, "too_large", f"{field} has {len(body):,} characters; the limit is "
                                         f"{max_chars:,} (FARMSCORE_MAX_TEXT_CHARS)", field=field)
    return Item(field, page.id, kind, body)


def _scalar_id(obj: Any) -> Any:
    pid = obj.get("id") if isinstance(obj, dict) else None
    return pid if isinstance(pid, (str, int, float)) and not isinstance(pid, bool) else None


# ---- the app ------------------------------------------------------------------------------
def create_app(settings: Settings | None = None) -> FastAPI:
    """A fresh app with its own settings, metrics registry and scorer (built at startup)."""
    settings = settings or Settings.from_env()
    metrics = Metrics()
    state = ApiState(settings, metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(title="farmscore scoring API", version=__version__, lifespan=lifespan,
                  description="Originality and quality scores, verdicts and evidence for web "
                              "pages, for crawlers and data pipelines. Same records as "
                              "`farmscore score`.")
    app.state.api = state

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> Response:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _bad_params(_request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        first = ".".join(str(x) for x in exc.errors()[0]["loc"]) if exc.errors() else None
        return ApiError(422, "field", "; ".join(problems), field=first).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
        return Response(error_body(code, str(exc.detail)), status_code=exc.status_code,
                        media_type=JSON, headers=getattr(exc, "headers", None))

    from originality.errors import IndexError_

    @app.exception_handler(IndexError_)
    async def _index_error(_request: Request, exc: IndexError_) -> Response:
        # the index failed (corrupt, unreachable): the request was fine; say why, as /readyz does
        log.error("farmscore: originality index error: %s", exc)
        return ApiError(503, "index", f"the originality index failed: {exc}",
                        headers={"Retry-After": str(state.settings.retry_after_s)}).response()

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> Response:
        log.exception("farmscore: unhandled error")
        return Response(error_body("internal", f"internal error ({type(exc).__name__})"),
                        status_code=500, media_type=JSON)

    refusals = {400: {"model": ErrorResponse, "description": "Malformed JSON, invalid UTF-8, binary body"},
                408: {"model": ErrorResponse, "description": "The body did not arrive in time"},
                413: {"model": ErrorResponse, "description": "Body over FARMSCORE_MAX_BODY_BYTES"},
                415: {"model": ErrorResponse, "description": "Not application/json (UTF-8)"},
                422: {"model": Union[ErrorResponse, PageError],
                      "description": "Invalid fields, too many pages or too long a text; a single "
                                     "page the scorer refuses (empty, binary, ...) as {id, error}"},
                503: {"model": ErrorResponse, "description": "Overloaded (cannot start within "
                      "FARMSCORE_MAX_WAIT_S) or not ready (Retry-After)"},
                504: {"model": ErrorResponse, "description": "Scoring ran over FARMSCORE_TIMEOUT_S"}}

    @app.post("/v1/score", response_model=Union[ScoreResponse, BatchResponse],
              responses=refusals, summary="Score one page or a batch of pages",
              openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": {
                  "oneOf": [{"$ref": "#/components/schemas/PageIn"},
                            {"$ref": "#/components/schemas/BatchIn"}]}}}}})
    async def score(request: Request,
                    explain: bool = Query(False, description="Add per-signal/feature contributions."),
                    include_text: bool = Query(False, description="Echo the scored text (for html input).")
                    ) -> Response:
        """Body: one page ``{"id", "text" | "html", "url"?}`` or ``{"pages": [page, ...]}``.

        One page answers its record (what ``farmscore score`` writes) plus ``model``; a batch
        answers ``{"model", "results": [...], "scored", "refused"}`` in request order, a
        refused page as ``{"id", "error": {"code", "reason", "field"}}`` in its place.
        """
        t0 = time.monotonic()
        s = state.settings
        deadline = t0 + s.timeout_s
        _check_content_type(request)
        body = await request.body()  # within FARMSCORE_TIMEOUT_S, or 408 (BodyLimitMiddleware)
        obj = _parse_json(body)
        if not isinstance(obj, dict):
            raise ApiError(422, "type", f"the body must be a JSON object (a page or {{\"pages\": [...]}}), "
                                        f"got {type(obj).__name__}", field="body")
        if state.scorer is None:
            raise ApiError(503, "not_ready", f"the scorer is not loaded ({state.startup_error or 'starting'})",
                           headers={"Retry-After": str(s.retry_after_s)})
        if "pages" in obj:
            return await _score_batch(obj["pages"], explain, include_text, deadline)
        item = _page_item(obj, "", s.max_text_chars)
        rec = await _run(lambda flag: score_item(state.scorer, item, explain, include_text), deadline, "page")
        metrics.observe_record(rec)
        if "error" in rec:
            return Response(dumps(rec), status_code=422, media_type=JSON)
        rec["model"] = state.model
        return Response(dumps(rec), media_type=JSON)

    async def _run(fn, deadline: float, kind: str):
        t = time.perf_counter()
        try:
            out = await state.pool.run(fn, deadline)
        except Overloaded as exc:
            metrics.rejected.labels("overloaded").inc()
            wait = max(state.settings.retry_after_s, math.ceil(exc.retry_after))
            raise ApiError(503, "overloaded", f"server busy: {exc}; retry after {wait} s",
                           headers={"Retry-After": str(wait)}) from None
        except TimedOut as exc:
            metrics.rejected.labels("timeout").inc()
            raise ApiError(504, "timeout", f"{exc.reason} (FARMSCORE_TIMEOUT_S="
                                           f"{state.settings.timeout_s:g})") from None
        metrics.scoring.labels(kind).observe(time.perf_counter() - t)
        return out

    async def _score_batch(pages: Any, explain: bool, include_text: bool, deadline: float) -> Response:
        s = state.settings
        if not isinstance(pages, list):
            raise ApiError(422, "type", f"pages must be a list of page objects, got {type(pages).__name__}",
                           field="pages")
        if not pages:
            raise ApiError(422, "field", "pages is empty; send at least one page", field="pages")
        if len(pages) > s.max_batch:
            raise ApiError(422, "too_large", f"pages has {len(pages):,} pages; the limit is {s.max_batch:,} "
                                             "per request (FARMSCORE_MAX_BATCH); split the batch",
                           field="pages")
        metrics.batch_size.observe(len(pages))
        results: list[dict | None] = [None] * len(pages)
        todo: list[tuple[int, Item]] = []
        for i, obj in enumerate(pages):
            try:
                todo.append((i, _page_item(obj, f"pages[{i}]", s.max_text_chars)))
            except ApiError as exc:
                results[i] = {"id": _scalar_id(obj), "error": {"code": exc.code, "field": exc.field,
                                                               "reason": exc.reason}}
        items = [it for _, it in todo]
        if items:
            # the same call with or without helper processes sharing the pages
            score_batch = state.helpers.score if state.helpers is not None else score_items
            scored = await _run(lambda flag: score_batch(state.scorer, items, explain, include_text,
                                                         flag.is_set, s.batch_threads), deadline, "batch")
            for (i, _), rec in zip(todo, scored):
                results[i] = rec
        n_err = 0
        for rec in results:
            metrics.observe_record(rec)
            n_err += "error" in rec
        body = b'{"model":' + state.model_json + b',"results":' + dumps(results) + \
            b',"scored":' + str(len(results) - n_err).encode() + b',"refused":' + str(n_err).encode() + b"}"
        return Response(body, media_type=JSON)

    @app.get("/livez", summary="The process is up and its event loop answers")
    async def livez() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", response_model=ReadyResponse, responses={503: {"model": ReadyResponse}},
             summary="Model loaded; index and database reachable when configured")
    async def readyz() -> Response:
        s = state.settings
        checks: dict[str, dict] = {}
        if state.scorer is not None:
            checks["model"] = {"ok": True, "detail": f"{state.model['name']} {state.model['version']}"}
        else:
            checks["model"] = {"ok": False, "detail": state.startup_error or "loading"}
        if s.index:
            checks["index"] = await _check(_index_check, s.index)
        if s.db:
            checks["database"] = await _check(_db_check, state)
        ready = all(c["ok"] for c in checks.values())
        body = dumps({"ready": ready, "checks": checks, "model": state.model})
        return Response(body, status_code=200 if ready else 503, media_type=JSON,
                        headers=None if ready else {"Retry-After": str(s.retry_after_s)})

    async def _check(fn, arg) -> dict:
        """Run a blocking check in a thread, bounded by FARMSCORE_READY_TIMEOUT_S."""
        try:
            detail = await asyncio.wait_for(asyncio.to_thread(fn, arg), state.settings.ready_timeout_s)
            return {"ok": True, "detail": detail}
        except (asyncio.TimeoutError, TimeoutError):
            return {"ok": False, "detail": f"no answer within {state.settings.ready_timeout_s:g} s"}
        except Exception as exc:  # noqa: BLE001 - any failure means not ready, with its reason
            return {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:500]}

    @app.get("/metrics", summary="Prometheus metrics (text format)",
             responses={200: {"content": {"text/plain": {}}}})
    async def metrics_endpoint() -> Response:
        body, ctype = metrics.exposition()
        return Response(body, media_type=ctype)

    def openapi() -> dict:
        """FastAPI's document plus the hand-parsed request models of /v1/score."""
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description,
                          routes=app.routes)
        comps = doc.setdefault("components", {}).setdefault("schemas", {})
        for model in (PageIn, BatchIn):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                comps.setdefault(name, sub)
            comps[model.__name__] = schema
        comps["BatchIn"]["properties"]["pages"]["maxItems"] = settings.max_batch
        app.openapi_schema = doc
        return doc

    app.openapi = openapi
    # Innermost first: an unhandled error becomes a complete 500 (the connection stays
    # usable), then the body limit, then metrics, which see every request (413s included).
    app.state.admission = Admission(settings.max_inflight_requests, settings.body_budget,
                                    settings.retry_after_s, exempt=("/livez", "/readyz", "/metrics"))
    app.add_middleware(ErrorMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       admission=app.state.admission, body_timeout_s=settings.timeout_s)
    app.add_middleware(MetricsMiddleware, metrics=metrics,
                       known_paths=lambda: {getattr(r, "path", None) for r in app.routes})
    return app


def _index_check(location: str) -> str:
    """Open the index read-only and count its pages: cheap, and proves it is reachable."""
    from originality import open_index

    idx = open_index(location, create=False)
    try:
        return f"{len(idx):,} pages"
    finally:
        idx.close()


def _db_check(state: ApiState) -> str:
    if state.engine is None:
        raise RuntimeError(state.startup_error or "no engine")
    from sqlalchemy import text

    with state.engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar()
    return "SELECT 1 ok"


def __getattr__(name: str):
    """``serving.app:app`` for uvicorn, built on first access (not at import, so tests and
    the CLI can create apps with their own settings)."""
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
