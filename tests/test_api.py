"""The scoring API, spoken to with real HTTP clients.

Three ways in, each for what only it can show:

* ``api``: httpx (Starlette's TestClient) against the ASGI app in this process, lifespan
  included: fast, for the contract and every bad request;
* ``live``: ``farmscore serve`` as a real subprocess over TCP: chunked and raw-byte bodies,
  seed parity with the in-process scorer, metrics, the real PostgreSQL for /readyz;
* ``tight``: uvicorn in a thread over TCP with a one-slot pool and a short time limit, to
  show overload (503 + Retry-After) and time limits (504) without crashing.

Nothing is mocked: the scorer is the shipped one, the database and Redis are the real ones
(tests that need them skip when they are not running).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from farmscore.config import REPO_ROOT, seeds_dir
from features.schema import current_schema
from scoring.score import build_scorer
from serving.app import create_app
from serving.schemas import BatchResponse, PageError, ScoreResponse
from serving.settings import Settings

SEEDS = {p.name: p.read_text(encoding="utf-8") for p in sorted(seeds_dir().glob("0*.txt"))}
SEED_IDS = sorted(SEEDS)
RECORD_KEYS = {"id", "originality", "quality", "verdict", "signals", "evidence", "source"}
JSON_CT = {"content-type": "application/json"}
PG_URL = os.environ.get("FARMSCORE_TEST_DB", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = ("127.0.0.1", 6379)


# ---- helpers -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _pg_reachable() -> bool:
    try:
        from sqlalchemy import create_engine, text

        eng = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                            connect_args={"connect_timeout": 2})
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


def metric(text: str, _name: str, **labels: str) -> float:
    """Value of one sample in Prometheus text (0.0 when absent)."""
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == _name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def expected_record(scorer, text: str, page_id, explain: bool = False) -> dict:
    """What the in-process scorer says, as JSON would carry it (model reported apart)."""
    rec = scorer.score(text, page_id, explain=explain)
    rec.pop("model")
    return json.loads(json.dumps(rec, default=float))


def settings(**kw) -> Settings:
    """Settings independent of the developer's environment."""
    base = dict(max_body_bytes=100_000, max_batch=5, max_text_chars=20_000, timeout_s=60.0,
                max_inflight=2, max_queue=64, index=None, db=None)
    base.update(kw)
    return Settings.from_env(**base)


@pytest.fixture(scope="module")
def scorer():
    return build_scorer(index=None)


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    with TestClient(create_app(settings()), raise_server_exceptions=False) as client:
        yield client


def farm_html(seed004: str, seed002: str) -> str:
    """A clean article (seed 004) wrapped as a farm serves it: the platform disclaimer, a
    comment form and a closing "You may also like" list of clickbait links (the clickbait
    extractor looks for a *trailing* block), plus script, style and noscript that must not
    leak into the text."""
    paras = [p for p in seed004.split("\n") if p.strip()]
    title, body = paras[0], paras[1:]
    disclaimer = next(line for line in seed002.splitlines() if "third-party content" in line)
    tail = ["Soup tastes way better and more flavourful if 1 ingredient is added",
            "Eggs will stay fresh for longer when stored in 1 place Mary Berry says is best",
            "'Masterpiece' horror series with a 100% score available to stream for free",
            "Panic in Ambala village after reports of leopard sighting near Air Force Station",
            "You won't believe what this celebrity looks like now"]
    return (
        "<!doctype html><html><head><title>x</title><style>.a{color:red}</style>"
        "<script>var related = 'You may also like hidden script text';</script></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
        + "".join(f"<p>{p}</p>" for p in body)
        + f"</article><div class='disclaimer'><p>View Original</p><p>{disclaimer}</p></div>"
        "<section id='comments'><form><h3>Leave a Reply</h3>"
        "<p>Your email address will not be published. Required fields are marked *</p>"
        "<label>Comment *</label><textarea></textarea><label>Name *</label><input name='n'>"
        "<input type='submit' value='Post Comment'></form></section>"
        "<aside><h3>You may also like</h3><ul>"
        + "".join(f"<li><a href='/x{i}'>{t}</a></li>" for i, t in enumerate(tail))
        + "</ul></aside>"
        "<noscript>Enable JavaScript noscript text</noscript></body></html>"
    )


# ---- in-process: the contract and every bad request ------------------------------------------
class TestContract:
    def test_single_page_is_the_cli_record_plus_model(self, api, scorer):
        sid = SEED_IDS[0]
        r = api.post("/v1/score", json={"id": sid, "text": SEEDS[sid]})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        body = r.json()
        ScoreResponse.model_validate(body)
        assert set(body) == RECORD_KEYS | {"model"}
        assert body["model"] == {**scorer.model_info, "feature_schema_hash": current_schema().hash}
        assert {k: body[k] for k in RECORD_KEYS} == expected_record(scorer, SEEDS[sid], sid)
        assert body["verdict"] == "farm"

    def test_explain_adds_contributions(self, api, scorer):
        sid = SEED_IDS[0]
        plain = api.post("/v1/score", json={"id": 1, "text": SEEDS[sid]}).json()
        r = api.post("/v1/score?explain=true", json={"id": 1, "text": SEEDS[sid]})
        assert r.status_code == 200
        assert "contributions" not in plain
        want = expected_record(scorer, SEEDS[sid], 1, explain=True)["contributions"]
        assert r.json()["contributions"] == want
        assert want["quality"]  # seed 000 has filler, so some signal lowers quality

    def test_batch_keeps_order_and_refuses_pages_one_by_one(self, api, scorer):
        pages = [{"id": "a", "text": SEEDS[SEED_IDS[0]]},
                 {"id": "b", "text": "  \n\t "},
                 {"id": "c", "text": 42},
                 {"text": "no id"},
                 {"id": "e", "text": "x", "html": "<p>x</p>"}]
        r = api.post("/v1/score", json={"pages": pages})
        assert r.status_code == 200
        body = r.json()
        BatchResponse.model_validate(body)
        res = body["results"]
        assert [x["id"] for x in res] == ["a", "b", "c", None, "e"]
        assert {k: res[0][k] for k in RECORD_KEYS} == expected_record(scorer, SEEDS[SEED_IDS[0]], "a")
        assert "model" not in res[0] and body["model"]["feature_schema_hash"] == current_schema().hash
        errs = [x["error"] for x in res[1:]]
        assert [e["code"] for e in errs] == ["empty", "field", "field", "field"]
        assert [e["field"] for e in errs] == ["pages[1].text", "pages[2].text", "pages[3].id", "pages[4]"]
        assert "exactly one of 'text' or 'html'" in errs[3]["reason"]
        for x in res[1:]:
            PageError.model_validate(x)
        assert (body["scored"], body["refused"]) == (1, 4)

    def test_batch_prediction_equals_single_pages(self, api):
        """A batch is predicted in one multi-threaded call; every record (with explain, and
        an HTML page among them) must be what the page gets on its own."""
        pages = [{"id": sid, "text": SEEDS[sid]} for sid in SEED_IDS[:4]]  # the test limit is 5
        pages.append({"id": "h", "html": "<html><body><p>" + SEEDS[SEED_IDS[1]].replace("\n\n", "</p><p>")
                      + "</p></body></html>"})
        batch = api.post("/v1/score?explain=true", json={"pages": pages}).json()["results"]
        for page, rec in zip(pages, batch):
            single = api.post("/v1/score?explain=true", json=page).json()
            single.pop("model")
            assert rec == single, page["id"]
        assert len({r["originality"] for r in batch}) > 1  # not one record repeated

    def test_batch_non_object_page_is_a_type_error(self, api):
        r = api.post("/v1/score", json={"pages": [7, {"id": 2, "text": SEEDS[SEED_IDS[4]]}]})
        assert r.status_code == 200
        res = r.json()["results"]
        assert res[0]["error"]["code"] == "type" and res[1]["verdict"] in {"ok", "suspect"}

    def test_batch_too_large_is_422_naming_pages(self, api):
        r = api.post("/v1/score", json={"pages": [{"id": i, "text": "word " * 50} for i in range(6)]})
        assert r.status_code == 422
        err = r.json()["error"]
        assert err["field"] == "pages" and err["code"] == "too_large"
        assert "6 pages" in err["reason"] and "limit is 5" in err["reason"]

    @pytest.mark.parametrize("pages,code", [([], "field"), ("x", "type"), ({"id": 1}, "type")])
    def test_bad_pages_container(self, api, pages, code):
        r = api.post("/v1/score", json={"pages": pages})
        assert r.status_code == 422
        assert r.json()["error"]["code"] == code and r.json()["error"]["field"] == "pages"

    def test_text_over_the_limit_single_422_batch_per_page(self, api):
        long = "word " * 5000  # 25,000 characters > max_text_chars 20,000
        r = api.post("/v1/score", json={"id": 1, "text": long})
        assert r.status_code == 422
        err = r.json()["error"]
        assert err["field"] == "text" and err["code"] == "too_large" and "20,000" in err["reason"]
        r = api.post("/v1/score", json={"pages": [{"id": 1, "html": f"<p>{long}</p>"},
                                                  {"id": 2, "text": SEEDS[SEED_IDS[4]]}]})
        res = r.json()["results"]
        assert r.status_code == 200 and res[0]["error"]["field"] == "pages[0].html"
        assert res[0]["error"]["code"] == "too_large" and "verdict" in res[1]

    @pytest.mark.parametrize("text,code", [("", "empty"), ("   \n\n  ", "empty"),
                                           ("\u200b\u200d\ufeff", "empty"),
                                           ("\x00\x01\x02\x03" * 200, "binary")])
    def test_refused_single_page_is_422_with_id_and_error(self, api, text, code):
        r = api.post("/v1/score", json={"id": "p1", "text": text})
        assert r.status_code == 422
        body = r.json()
        assert body["id"] == "p1" and body["error"]["code"] == code
        assert body["error"]["field"] == "text" and body["error"]["reason"]

    def test_html_without_visible_text_is_empty(self, api):
        r = api.post("/v1/score", json={"id": 1, "html": "<html><script>var a=1</script></html>"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "empty"
        assert r.json()["error"]["field"] == "html"

    @pytest.mark.parametrize("payload,field", [
        ({"id": 1, "text": 5}, "text"),
        ({"id": [1], "text": "a page"}, "id"),
        ({"id": {"x": 1}, "text": "a page"}, "id"),
        ({"id": 1, "html": ["<p>"]}, "html"),
        ({"text": "no id"}, "id"),
        ({"id": 1}, "body"),
        ({"id": 1, "text": "t", "url": 7}, "url"),
    ])
    def test_wrong_types_are_422_naming_the_field(self, api, payload, field):
        r = api.post("/v1/score", json=payload)
        assert r.status_code == 422
        err = r.json()["error"]
        assert err["field"] == field and field in err["reason"]

    @pytest.mark.parametrize("payload", [[{"id": 1, "text": "t"}], "a string", 3, None])
    def test_body_not_an_object_is_422(self, api, payload):
        r = api.post("/v1/score", content=json.dumps(payload), headers=JSON_CT)
        assert r.status_code == 422 and r.json()["error"]["code"] == "type"

    @pytest.mark.parametrize("raw", [b'{"id": 1, "text": "unterminated', b"{id: 1}",
                                     b'{"id": 1, "text": "a"} trailing', b"{'id': 1}"])
    def test_malformed_json_is_400(self, api, raw):
        r = api.post("/v1/score", content=raw, headers=JSON_CT)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "json" and "malformed JSON" in r.json()["error"]["reason"]

    def test_empty_body_is_400(self, api):
        r = api.post("/v1/score", content=b"", headers=JSON_CT)
        assert r.status_code == 400 and r.json()["error"]["code"] == "empty"

    def test_invalid_utf8_is_400_with_byte_offset(self, api):
        r = api.post("/v1/score", content=b'{"id": 1, "text": "caf\xe9 au lait"}', headers=JSON_CT)
        assert r.status_code == 400
        err = r.json()["error"]
        assert err["code"] == "encoding" and "byte 22" in err["reason"]

    def test_binary_body_is_400(self, api):
        blob = bytes(range(256)) * 20
        r = api.post("/v1/score", content=blob, headers=JSON_CT)
        assert r.status_code == 400 and r.json()["error"]["code"] == "binary"

    @pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                       "multipart/form-data; boundary=x", "application/xml",
                                       "application/json; charset=latin-1"])
    def test_wrong_content_type_is_415(self, api, ctype):
        r = api.post("/v1/score", content=b'{"id": 1, "text": "a page"}', headers={"content-type": ctype})
        assert r.status_code == 415
        assert r.json()["error"]["code"] == "content_type"

    def test_missing_content_type_is_415(self, api):
        r = api.post("/v1/score", content=b'{"id": 1, "text": "a page"}')  # httpx sets none
        assert "content-type" not in r.request.headers
        assert r.status_code == 415 and "Content-Type" in r.json()["error"]["reason"]

    def test_json_with_charset_and_vendor_type_are_accepted(self, api):
        body = json.dumps({"id": 1, "text": SEEDS[SEED_IDS[4]]}).encode()
        for ctype in ("application/json; charset=utf-8", "application/vnd.farmscore+json"):
            assert api.post("/v1/score", content=body, headers={"content-type": ctype}).status_code == 200

    def test_oversize_body_with_content_length_is_413(self, api):
        body = json.dumps({"id": 1, "text": "a" * 150_000}).encode()
        r = api.post("/v1/score", content=body, headers=JSON_CT)
        assert r.status_code == 413
        err = r.json()["error"]
        assert err["code"] == "too_large" and err["limit"] == 100_000

    def test_bad_query_parameter_is_422(self, api):
        r = api.post("/v1/score?explain=maybe", json={"id": 1, "text": "a page"})
        assert r.status_code == 422 and r.json()["error"]["field"] == "query.explain"

    def test_unknown_route_and_method_answer_json(self, api):
        r = api.get("/v2/nothing")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = api.get("/v1/score")
        assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"

    def test_health(self, api):
        assert api.get("/livez").json() == {"status": "ok"}
        r = api.get("/readyz")
        assert r.status_code == 200
        body = r.json()
        assert body["ready"] is True and set(body["checks"]) == {"model"}
        assert body["model"]["feature_schema_hash"] == current_schema().hash

    def test_openapi_documents_request_and_response_models(self, api):
        doc = api.get("/openapi.json").json()
        schemas = doc["components"]["schemas"]
        assert {"PageIn", "BatchIn", "ScoreResponse", "BatchResponse", "ErrorResponse",
                "PageError", "ModelInfo", "Evidence"} <= set(schemas)
        assert schemas["BatchIn"]["properties"]["pages"]["maxItems"] == 5
        op = doc["paths"]["/v1/score"]["post"]
        refs = op["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
        assert {x["$ref"] for x in refs} == {"#/components/schemas/PageIn", "#/components/schemas/BatchIn"}
        assert {"explain", "include_text"} <= {p["name"] for p in op["parameters"]}
        assert {"200", "400", "413", "415", "422", "503", "504"} <= set(op["responses"])
        for path in ("/livez", "/readyz", "/metrics"):
            assert path in doc["paths"]
        docs = api.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()

    def test_metrics_count_requests_scores_and_batches(self, api):
        before = api.get("/metrics").text
        api.post("/v1/score", json={"id": 1, "text": SEEDS[SEED_IDS[0]]})
        api.post("/v1/score", json={"pages": [{"id": 1, "text": SEEDS[SEED_IDS[4]]}, {"id": 2, "text": ""}]})
        api.post("/v1/score", content=b"{", headers=JSON_CT)
        after = api.get("/metrics").text
        d = lambda name, **lab: metric(after, name, **lab) - metric(before, name, **lab)  # noqa: E731
        assert d("farmscore_http_requests_total", route="/v1/score", method="POST", status="200") == 2
        assert d("farmscore_http_requests_total", route="/v1/score", method="POST", status="400") == 1
        assert d("farmscore_http_request_duration_seconds_count", route="/v1/score", method="POST") == 3
        assert d("farmscore_pages_total", outcome="farm") == 1
        assert d("farmscore_pages_total", outcome="error:empty") == 1
        assert d("farmscore_originality_score_count") == 2 and d("farmscore_quality_score_count") == 2
        assert d("farmscore_batch_size_count") == 1 and d("farmscore_batch_size_sum") == 2
        model = api.get("/readyz").json()["model"]  # the rules or the trained model, as shipped
        assert metric(after, "farmscore_model_info", name=model["name"], version=model["version"],
                      feature_schema_hash=current_schema().hash) == 1


class TestHtml:
    def test_html_keeps_tail_disclaimer_and_comment_form(self, api):
        seed004 = SEEDS[SEED_IDS[4]]
        html = farm_html(seed004, SEEDS[SEED_IDS[2]])
        plain = api.post("/v1/score", json={"id": "t", "text": seed004}).json()
        r = api.post("/v1/score?include_text=true", json={"id": "h", "html": html})
        assert r.status_code == 200
        rec = r.json()
        text = rec["text"]
        assert plain["signals"]["clickbait_tail"] == 0 and plain["verdict"] == "ok"
        assert rec["signals"]["clickbait_tail"] > 0
        assert rec["signals"]["disclaimer"] > 0 and rec["signals"]["comment_form"] > 0
        assert rec["verdict"] != "ok"
        tail = [e for e in rec["evidence"] if e["signal"] == "clickbait_tail"]
        assert tail and "You may also like" in text[tail[0]["start"]:tail[0]["end"]]
        for e in rec["evidence"]:  # offsets index the extracted text the API echoed
            assert text[e["start"]:e["end"]].startswith(e["text"][:50])
        assert "hidden script text" not in text and "noscript text" not in text
        assert ".a{color" not in text
        lines = text.splitlines()
        assert "Soup tastes way better and more flavourful if 1 ingredient is added" in lines
        assert "Post Comment" in lines


class TestReadiness:
    def test_unreachable_database_is_not_ready(self):
        with TestClient(create_app(settings(db="postgresql://postgres@127.0.0.1:1/postgres",
                                            ready_timeout_s=5.0))) as c:
            r = c.get("/readyz")
            assert r.status_code == 503 and r.headers["retry-after"]
            db = r.json()["checks"]["database"]
            assert db["ok"] is False and db["detail"]
            assert c.get("/livez").status_code == 200  # alive, just not ready

    def test_reachable_database_is_ready(self):
        if not _pg_reachable():
            pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
        with TestClient(create_app(settings(db=PG_URL))) as c:
            r = c.get("/readyz")
            assert r.status_code == 200, r.text
            assert r.json()["checks"]["database"] == {"ok": True, "detail": "SELECT 1 ok"}

    def test_missing_index_is_not_ready(self, tmp_path):
        with TestClient(create_app(settings(index=str(tmp_path / "no-such-index")))) as c:
            r = c.get("/readyz")
            assert r.status_code == 503 and r.json()["checks"]["index"]["ok"] is False

    def test_unreachable_redis_index_is_not_ready(self):
        with TestClient(create_app(settings(index="redis://127.0.0.1:1/0"))) as c:
            r = c.get("/readyz")
            assert r.status_code == 503 and r.json()["checks"]["index"]["ok"] is False

    def test_existing_index_is_ready(self, tmp_path):
        from originality import open_index

        loc = str(tmp_path / "index")
        open_index(loc, create=True).close()
        with TestClient(create_app(settings(index=loc))) as c:
            r = c.get("/readyz")
            assert r.status_code == 200, r.text
            assert r.json()["checks"]["index"] == {"ok": True, "detail": "0 pages"}


class TestOriginalityIndex:
    @pytest.mark.parametrize("preload", [False, True])
    def test_configured_index_finds_the_source(self, tmp_path, preload):
        from originality import open_index

        loc = str(tmp_path / "index")
        orig = SEEDS[SEED_IDS[4]]
        with open_index(loc, create=True) as idx:
            idx.add([{"id": "orig-004", "text": orig, "url": "https://orig.example/4",
                      "published": "2025-01-01"}])
        app = create_app(settings(index=loc, index_preload=preload))
        with TestClient(app) as c:
            assert c.get("/readyz").json()["checks"]["index"] == {"ok": True, "detail": "1 pages"}
            r = c.post("/v1/score", json={"id": "copy", "text": orig})
            assert r.status_code == 200
            rec = r.json()
            opened = app.state.api.scorer.pipeline.extractors[-1].index
            assert len(opened) == 1
        assert rec["source"]["id"] == "orig-004" and rec["originality"] < 0.5
        with pytest.raises(sqlite3.ProgrammingError):  # shutdown closed the index it opened
            len(opened)
        want = expected_record(build_scorer(index=loc), orig, "copy")
        assert {k: rec[k] for k in RECORD_KEYS} == want


# ---- a real server over TCP ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    """``farmscore serve`` in a subprocess on a free port; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FARMSCORE_", "PROMETHEUS_"))}
    env.update(FARMSCORE_MAX_BODY_BYTES="200000", FARMSCORE_MAX_BATCH="20",
               FARMSCORE_MAX_TEXT_CHARS="100000",
               FARMSCORE_BATCH_PROCESSES="1")  # batches shared with a helper process
    if _pg_reachable():
        env["FARMSCORE_DB"] = PG_URL
    proc = subprocess.Popen([sys.executable, "-m", "farmscore", "serve", "--port", str(port),
                             "--no-access-log", "--log-level", "warning"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"farmscore serve exited: {proc.stdout.read().decode(errors='replace')}")
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("farmscore serve did not become ready in 120 s")
            time.sleep(0.2)
        yield base
        assert proc.poll() is None, "the server died during the tests"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def http(live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live, timeout=60) as c:
        yield c


class TestLiveServer:
    def test_seeds_over_http_equal_in_process_scores(self, http, scorer):
        for sid in SEED_IDS:
            r = http.post("/v1/score", json={"id": sid, "text": SEEDS[sid]})
            assert r.status_code == 200
            body = r.json()
            assert {k: body[k] for k in RECORD_KEYS} == expected_record(scorer, SEEDS[sid], sid)
            assert body["model"] == {**scorer.model_info, "feature_schema_hash": current_schema().hash}
        r = http.post("/v1/score", json={"pages": [{"id": s, "text": SEEDS[s]} for s in SEED_IDS]})
        assert r.status_code == 200
        assert r.json()["results"] == [expected_record(scorer, SEEDS[s], s) for s in SEED_IDS]

    def test_chunked_body_over_the_limit_is_413(self, http):
        def chunks() -> Iterator[bytes]:
            yield b'{"id": 1, "text": "'
            for _ in range(20):
                yield b"a" * 16_384  # 327 KB in all, no Content-Length
            yield b'"}'

        r = http.post("/v1/score", content=chunks(), headers=JSON_CT)
        assert r.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in r.request.headers
        assert r.status_code == 413
        err = r.json()["error"]
        assert err["code"] == "too_large" and "200,000 bytes" in err["reason"]

    def test_chunked_body_under_the_limit_is_scored(self, http):
        data = json.dumps({"id": "c", "text": SEEDS[SEED_IDS[0]]}).encode()
        r = http.post("/v1/score", content=iter([data[i:i + 1000] for i in range(0, len(data), 1000)]),
                      headers=JSON_CT)
        assert r.request.headers.get("transfer-encoding") == "chunked"
        assert r.status_code == 200 and r.json()["verdict"] == "farm"

    def test_raw_bytes_over_tcp(self, http, live):
        # A raw socket declaring 10 MB and sending only the headers: the 413 must come
        # anyway, before any of the body is read.
        host, port = live.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as s:
            s.sendall(b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 10000000\r\nConnection: close\r\n\r\n")
            resp = b""
            while chunk := s.recv(65536):
                resp += chunk
        head, _, body = resp.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413")
        assert json.loads(body)["error"]["code"] == "too_large"
        cases = [(b'{"id": 1, "text": "\xff\xfe bad bytes"}', 400, "encoding"),
                 (b"\x00\x01\x02\x03\x04\x05" * 1000, 400, "binary"),
                 (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, 400, "binary"),
                 (b'{"id": 1, "text": "' + b"\\u0000\\u0001\\u0002\\u0003" * 50 + b'"}', 422, "binary")]
        for raw, status, code in cases:
            r = http.post("/v1/score", content=raw, headers=JSON_CT)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), raw[:40]

    def test_html_tail_over_http(self, http):
        html = farm_html(SEEDS[SEED_IDS[4]], SEEDS[SEED_IDS[2]])
        r = http.post("/v1/score", json={"pages": [{"id": "h", "html": html, "url": "https://farm.example/x"}]})
        rec = r.json()["results"][0]
        assert rec["signals"]["clickbait_tail"] > 0 and rec["signals"]["comment_form"] > 0

    def test_metrics_over_http_increase(self, http):
        before = http.get("/metrics").text
        http.post("/v1/score", json={"id": 1, "text": SEEDS[SEED_IDS[3]]})
        http.post("/v1/score", content=b"not json", headers={"content-type": "text/plain"})
        after = http.get("/metrics").text
        assert http.get("/metrics").headers["content-type"].startswith("text/plain")
        for status, n in (("200", 1), ("415", 1)):
            k = dict(route="/v1/score", method="POST", status=status)
            assert metric(after, "farmscore_http_requests_total", **k) - \
                metric(before, "farmscore_http_requests_total", **k) == n
        assert metric(after, "farmscore_quality_score_count") == metric(before, "farmscore_quality_score_count") + 1

    def test_readyz_and_livez(self, http):
        assert http.get("/livez").json() == {"status": "ok"}
        body = http.get("/readyz").json()
        assert body["ready"] is True
        if _pg_reachable():
            assert body["checks"]["database"]["ok"] is True


# ---- overload and time limits (uvicorn in a thread, one scoring slot) --------------------------
class ThreadServer:
    """uvicorn serving an app in a background thread of this process, over real TCP."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(60)


def _wait_for(pred, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


class TestOverloadAndTimeout:
    def test_a_request_that_cannot_start_soon_is_503_at_once_not_504_later(self):
        """Old code: a request behind a busy slot waited the whole time limit and then got
        504, or was scored late; now it waits at most FARMSCORE_MAX_WAIT_S and gets 503 with
        Retry-After, and once the pool knows how long jobs take, a request whose expected
        wait is past that limit is refused without waiting at all. Ordering, not timing:
        each refusal arrives while the slow job still holds the only slot."""
        app = create_app(settings(max_inflight=1, max_queue=8, timeout_s=120, max_wait_s=0.2,
                                  retry_after_s=1, max_text_chars=2_000_000, max_body_bytes=8_000_000))
        big = "".join(SEEDS.values())
        big = (big * (1_000_000 // len(big) + 1))[:1_000_000]  # ~2 s of scoring here
        with ThreadServer(app) as base, httpx.Client(base_url=base, timeout=120) as c:
            inflight = lambda: metric(c.get("/metrics").text, "farmscore_scoring_inflight")  # noqa: E731
            for round_ in ("waited", "expected"):
                slow: dict = {}
                t = threading.Thread(target=lambda: slow.setdefault(
                    "r", c.post("/v1/score", json={"id": "big", "text": big})))
                t.start()
                _wait_for(lambda: inflight() == 1, "the slow job to take the only slot")
                r = c.post("/v1/score", json={"id": "small", "text": SEEDS[SEED_IDS[4]]})
                assert "r" not in slow and inflight() == 1  # answered while the slot is busy
                assert r.status_code == 503, r.text  # old code: 200 after the slow job (or 504)
                err = r.json()["error"]
                assert err["code"] == "overloaded" and int(r.headers["retry-after"]) >= 1
                if round_ == "expected":  # the pool has timed one big job: no waiting now
                    assert "expected wait" in err["reason"], err["reason"]
                t.join(120)
                assert slow["r"].status_code == 200
            after = c.get("/metrics").text
            assert metric(after, "farmscore_rejected_total", reason="overloaded") == 2
            assert metric(after, "farmscore_rejected_total", reason="timeout") == 0

    def test_full_pool_is_503_and_slow_scoring_is_504(self):
        app = create_app(settings(max_inflight=1, max_queue=0, timeout_s=0.3, retry_after_s=2,
                                  max_text_chars=2_000_000, max_body_bytes=8_000_000))
        big = "".join(SEEDS.values())
        big = (big * (1_000_000 // len(big) + 1))[:1_000_000]  # ~2 s of scoring here
        with ThreadServer(app) as base, httpx.Client(base_url=base, timeout=120) as c:
            slow: dict = {}
            t = threading.Thread(target=lambda: slow.setdefault(
                "r", c.post("/v1/score", json={"id": "big", "text": big})))
            t.start()
            inflight = lambda: metric(c.get("/metrics").text, "farmscore_scoring_inflight")  # noqa: E731
            _wait_for(lambda: inflight() == 1, "the slow job to take the only slot")
            r = c.post("/v1/score", json={"id": "small", "text": SEEDS[SEED_IDS[4]]})
            assert r.status_code == 503
            assert r.headers["retry-after"] == "2" and r.json()["error"]["code"] == "overloaded"
            t.join(120)
            slow_r = slow["r"]
            assert slow_r.status_code == 504
            assert slow_r.json()["error"]["code"] == "timeout"
            assert "FARMSCORE_TIMEOUT_S" in slow_r.json()["error"]["reason"]
            # The abandoned job keeps its slot until its thread ends, then frees it.
            _wait_for(lambda: inflight() == 0, "the abandoned job to finish")
            assert c.get("/livez").status_code == 200
            after = c.get("/metrics").text
            assert metric(after, "farmscore_rejected_total", reason="overloaded") == 1
            assert metric(after, "farmscore_rejected_total", reason="timeout") == 1
