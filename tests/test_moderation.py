"""The moderation queue against real SQLite and real PostgreSQL (issue 7).

Every test that touches storage runs twice through the ``db_url`` fixture: a SQLite file
and a fresh PostgreSQL schema (dropped afterwards). Leases are made to expire by giving
the queue a negative lease length, never by sleeping, so nothing depends on timing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text as sql

from moderation.db import current_revision, make_engine, metadata, migrate
from moderation.highlight import css_class, likely_original, segments
from moderation.service import Conflict, Invalid, ModerationQueue, priority_of, risk_of
from moderation.testing import db_url, pg_schemas, record  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse 1"


@pytest.fixture
def engine(db_url):  # noqa: F811
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def queue(engine) -> ModerationQueue:
    q = ModerationQueue(engine, risk_threshold=0.5)
    for name in ("alice", "bob"):
        q.add_moderator(name, PASSWORD)
    return q


@pytest.fixture(scope="module")
def scorer():
    from scoring.score import build_scorer

    return build_scorer()


# ---- schema and migrations ---------------------------------------------------------------
def test_migration_reaches_head_and_matches_the_tables(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    assert current_revision(engine) == "0002_sessions"
    migrate(engine)  # a second upgrade is a no-op, as on every server start
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_the_decision_log_refuses_update_and_delete(queue):
    item = queue.enqueue(record("p1")).item_id
    lease = queue.claim_next("alice")["lease_token"]
    queue.decide("alice", item, lease, "approve")
    for stmt in ("update decisions set action = 'reject'", "delete from decisions"):
        with pytest.raises(Exception, match="append-only"):
            with queue.engine.begin() as conn:
                conn.execute(sql(stmt))
    assert [d["action"] for d in queue.log()] == ["approve"]


# ---- entering the queue ----------------------------------------------------------------------
def test_only_pages_past_the_risk_threshold_enter_and_only_once(queue):
    low = queue.enqueue(record("clean", originality=0.9, quality=0.8))  # risk 0.2
    high = queue.enqueue(record("farm", originality=1.0, quality=0.1))  # risk 0.9
    again = queue.enqueue(record("farm", originality=1.0, quality=0.1))
    assert (low.queued, low.reason) == (False, "below_threshold")
    assert (high.queued, high.reason, high.risk) == (True, "queued", 0.9)
    assert (again.queued, again.reason, again.item_id) == (False, "duplicate", high.item_id)
    assert queue.enqueue(record("forced", originality=0.9, quality=0.9), force=True).queued
    assert queue.counts()["pending"] == 2


@pytest.mark.parametrize("bad, why", [
    ({"id": "x", "originality": 1.0, "quality": 0.1}, "text"),
    ({"id": "x", "text": "t", "originality": 1.5, "quality": 0.1}, "originality"),
    ({"id": "x", "text": "t", "originality": float("nan"), "quality": 0.1}, "originality"),
    ({"text": "t", "originality": 1.0, "quality": 0.1}, "id"),
    ({"id": "x", "error": {"code": "empty", "reason": "empty"}}, "error"),
])
def test_malformed_records_are_refused(queue, bad, why):
    with pytest.raises(Invalid, match=why):
        queue.enqueue(bad)


def test_evidence_outside_the_text_is_dropped(queue):
    ev = [{"signal": "a", "start": 0, "end": 4, "text": "Body", "detail": ""},
          {"signal": "b", "start": 5, "end": 10_000, "text": "x", "detail": ""},
          {"signal": "c", "start": 3, "end": 3, "text": "", "detail": ""}]
    item = queue.get_item(queue.enqueue(record("p", evidence=ev)).item_id)
    assert [e["signal"] for e in item["evidence"]] == ["a"]


def test_priority_puts_pages_near_the_threshold_first():
    assert risk_of(1.0, 0.3) == pytest.approx(0.7)
    # at the threshold: uncertainty 1 -> 0.6 + 0.4 * 0.5
    assert priority_of(0.5, 0.5) == pytest.approx(0.8)
    # far from it: 0.4 * risk plus a little uncertainty, which in log-odds never quite
    # reaches 0, so pages past 0.99 still differ (issue 18)
    assert 0.4 < priority_of(1.0, 0.5) < 0.45
    assert priority_of(0.9997, 0.5) != priority_of(0.99993, 0.5)
    assert priority_of(0.55, 0.5) > priority_of(0.75, 0.5) > priority_of(0.99, 0.5)


def test_views_order_and_filter_by_technique(queue):
    queue.enqueue(record("sure", quality=0.01, signals={"pasted_twice": 1.0}))      # risk .99
    queue.enqueue(record("borderline", quality=0.48, signals={"disclaimer": 0.6}))  # risk .52
    queue.enqueue(record("middle", quality=0.3, signals={"pasted_twice": 0.7,
                                                          "clickbait_tail": 0.49}))  # risk .7
    ids = lambda rows: [r["page_id"] for r in rows]  # noqa: E731
    assert ids(queue.list_items("priority")) == ["borderline", "middle", "sure"]
    assert ids(queue.list_items("score")) == ["sure", "middle", "borderline"]
    assert ids(queue.list_items("newest")) == ["middle", "borderline", "sure"]
    assert ids(queue.list_items("score", technique="pasted_twice")) == ["sure", "middle"]
    # 0.49 is below the technique strength: not a technique
    assert ids(queue.list_items("priority", technique="clickbait_tail")) == []
    assert dict(queue.techniques()) == {"disclaimer": 1, "pasted_twice": 2}
    assert queue.claim_next("alice", technique="disclaimer")["page_id"] == "borderline"


# ---- claims, leases, decisions ------------------------------------------------------------------
def test_two_moderators_never_hold_the_same_item(queue):
    for i in range(3):
        queue.enqueue(record(f"p{i}", quality=0.1 + i / 10))
    a = queue.claim_next("alice")
    b = queue.claim_next("bob")
    assert a["id"] != b["id"]
    assert queue.claim_next("alice")["id"] == a["id"]  # a reload returns the held item
    with pytest.raises(Conflict):
        queue.claim_item("bob", a["id"])
    with pytest.raises(Conflict):  # bob's own token is not a lease on alice's item
        queue.decide("bob", a["id"], b["lease_token"], "approve")
    with pytest.raises(Conflict):  # nor is alice's token in bob's hands
        queue.decide("bob", a["id"], a["lease_token"], "approve")


def test_a_decision_is_recorded_once_even_when_retried(queue):
    item = queue.enqueue(record("p")).item_id
    lease = queue.claim_next("alice")["lease_token"]
    first = queue.decide("alice", item, lease, "reject", ["pasted_twice", "disclaimer"])
    again = queue.decide("alice", item, lease, "reject", ["pasted_twice", "disclaimer"])
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["id"] == first["id"]
    with pytest.raises(Conflict):  # a different action on a used lease is refused
        queue.decide("alice", item, lease, "approve")
    log = queue.log()
    assert [(d["action"], d["techniques"]) for d in log] == [("reject", ["disclaimer", "pasted_twice"])]
    assert log[0]["model_version"] == "1" and log[0]["risk"] == pytest.approx(0.8)
    assert "lease_token" not in log[0]


def test_reject_needs_a_technique_and_actions_are_checked(queue):
    item = queue.enqueue(record("p")).item_id
    lease = queue.claim_next("alice")["lease_token"]
    with pytest.raises(Invalid, match="technique"):
        queue.decide("alice", item, lease, "reject", [])
    with pytest.raises(Invalid, match="action"):
        queue.decide("alice", item, lease, "delete")
    assert queue.log() == []


def test_an_expired_lease_frees_the_item_and_voids_the_old_token(engine):
    expired = ModerationQueue(engine, risk_threshold=0.5, lease_seconds=-1)
    item = expired.enqueue(record("p")).item_id
    stale = expired.claim_next("alice")
    fresh = ModerationQueue(engine, risk_threshold=0.5).claim_next("bob")
    assert fresh["id"] == item  # alice's lease had expired
    with pytest.raises(Conflict):
        expired.decide("alice", item, stale["lease_token"], "approve")
    expired.decide("bob", item, fresh["lease_token"], "approve")
    assert [(d["moderator"], d["action"]) for d in expired.log()] == [("bob", "approve")]


def test_skip_hands_the_item_to_someone_else(queue):
    item = queue.enqueue(record("p")).item_id
    lease = queue.claim_next("alice")["lease_token"]
    queue.decide("alice", item, lease, "skip")
    assert queue.claim_next("alice") is None  # not offered again to whoever skipped it
    bob = queue.claim_next("bob")
    assert bob["id"] == item and bob["skip_count"] == 1


def test_undo_appends_and_reopens_the_item_for_the_same_moderator(queue):
    a = queue.enqueue(record("a", quality=0.45)).item_id
    b = queue.enqueue(record("b", quality=0.1)).item_id
    queue.decide("alice", a, queue.claim_next("alice")["lease_token"], "approve")
    nxt = queue.claim_next("alice")
    assert nxt["id"] == b
    undo = queue.undo("alice")
    assert undo["action"] == "undo" and undo["undone"]["action"] == "approve"
    back = queue.claim_next("alice")  # the undone item is leased to alice again; b released
    assert back["id"] == a and back["status"] == "pending" and back["label"] is None
    assert queue.get_item(b)["claimed_by"] is None
    assert list(queue.export()) == []
    queue.decide("alice", a, back["lease_token"], "reject", ["pasted_twice"])
    assert [d["action"] for d in reversed(queue.log())] == ["approve", "undo", "reject"]
    assert [(r["id"], r["label"]) for r in queue.export()] == [("a", "farm")]
    # undo walks back: the reject, then nothing is left to undo
    queue.undo("alice")
    with pytest.raises(Conflict, match="nothing to undo"):
        queue.undo("alice")
    assert [d["action"] for d in reversed(queue.log())] == ["approve", "undo", "reject", "undo"]


def test_undo_cannot_take_back_an_item_someone_else_now_holds(queue):
    item = queue.enqueue(record("p")).item_id
    queue.decide("alice", item, queue.claim_next("alice")["lease_token"], "skip")
    assert queue.claim_next("bob")["id"] == item
    with pytest.raises(Conflict, match="someone else"):
        queue.undo("alice")


def test_export_is_the_labelled_data_set(queue):
    queue.enqueue(record("f", text="Farm text.", signals={"pasted_twice": 1.0}))
    queue.enqueue(record("c", text="Clean text.", quality=0.45))
    for _ in range(2):
        it = queue.claim_next("bob")
        if it["page_id"] == "f":
            queue.decide("bob", it["id"], it["lease_token"], "reject", ["pasted_twice"])
        else:
            queue.decide("bob", it["id"], it["lease_token"], "approve")
    rows = {r["id"]: r for r in queue.export()}
    assert set(rows) == {"f", "c"}
    f = rows["f"]
    assert (f["text"], f["label"], f["techniques"], f["moderator"], f["model_version"]) == \
        ("Farm text.", "farm", ["pasted_twice"], "bob", "1")
    assert rows["c"]["label"] == "clean" and rows["c"]["techniques"] == []
    assert f["scores"]["quality"] == 0.2 and f["scores"]["signals"]["pasted_twice"] == 1.0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", f["decided_at"])


def test_login_checks_the_password(queue):
    assert queue.check_login("alice", PASSWORD)
    assert not queue.check_login("alice", "wrong password")
    assert not queue.check_login("nobody", PASSWORD)
    with queue.engine.connect() as conn:
        stored = conn.execute(sql("select password_hash from moderators where name='alice'")).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


# ---- highlighting ----------------------------------------------------------------------------
def test_overlapping_evidence_becomes_flat_segments():
    text = "0123456789"
    ev = [{"signal": "pasted_twice", "start": 2, "end": 8, "detail": ""},
          {"signal": "spun", "start": 4, "end": 6, "detail": "likely original: rare earth; x"},
          {"signal": "clickbait_tail", "start": 6, "end": 10, "detail": ""}]
    segs = segments(text, ev)
    assert "".join(s.text for s in segs) == text
    assert [(s.text, s.evidence) for s in segs] == [
        ("01", []), ("23", [0]), ("45", [0, 1]), ("67", [0, 2]), ("89", [2])]
    assert segs[2].classes == "ev ev-pasted_twice ev-spun"
    assert "likely original “rare earth”" in segs[2].title
    assert likely_original("likely original: Air Force One; known name") == "Air Force One"
    assert css_class('x" onmouseover="alert(1)') == "ev-x-onmouseover-alert-1"


# ---- the web app (real ASGI app, real database) ----------------------------------------------
@pytest.fixture
def app_client(db_url, scorer):  # noqa: F811
    from fastapi.testclient import TestClient

    from moderation import create_queue_app

    app = create_queue_app(db_url, scorer, risk_threshold=0.5, secret_key="test-secret")
    app.state.queue.add_moderator("alice", PASSWORD)
    with TestClient(app) as client:
        yield client, app.state.queue
    app.state.engine.dispose()


def _login(client) -> None:
    r = client.post("/api/login", json={"name": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_api_needs_a_signed_in_moderator(app_client):
    client, _q = app_client
    assert client.get("/api/items").status_code == 401
    assert client.post("/api/items", json={"text": "x"}).status_code == 401
    assert client.post("/api/login", json={"name": "alice", "password": "nope"}).status_code == 401
    client.cookies.set("farmscore_queue_session", "forged.value.here")
    assert client.get("/api/me").status_code == 401
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    token = client.post("/api/login", json={"name": "alice", "password": PASSWORD}).json()["token"]
    client.cookies.clear()
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json() == {"moderator": "alice"}


def test_cookie_sessions_cannot_post_forms_to_the_api(app_client):
    client, _q = app_client
    _login(client)
    r = client.post("/api/undo", content="a=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415


def test_post_items_scores_a_text_or_takes_a_scored_record(app_client, seeds):
    client, q = app_client
    _login(client)
    r = client.post("/items", json={"id": "seed000", "text": seeds["000"], "url": "http://farm.example/1"})
    assert r.status_code == 201 and r.json()["queued"] is True
    item = q.get_item(r.json()["item_id"])
    assert item["signals"]["pasted_twice"] == 1.0 and item["evidence"]
    r = client.post("/api/items", json={"id": "seed004", "text": seeds["004"]})
    assert r.status_code == 200 and r.json()["reason"] == "below_threshold"
    r = client.post("/api/items", json={"record": record("rec1")})
    assert r.status_code == 201 and r.json()["risk"] == 0.8
    assert client.post("/api/items", json={"text": "   "}).status_code == 422
    assert client.post("/api/items", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422


def test_api_claim_decide_log_and_export(app_client):
    client, q = app_client
    _login(client)
    q.enqueue(record("p1"))
    it = client.post("/api/claim", json={}).json()["item"]
    assert it["page_id"] == "p1" and it["lease_token"]
    url = f"/api/items/{it['id']}/decision"
    body = {"action": "reject", "lease_token": it["lease_token"], "techniques": ["pasted_twice"]}
    assert client.post(url, json=body).status_code == 201
    assert client.post(url, json=body).status_code == 200  # replay: recorded once
    assert client.post(url, json={**body, "lease_token": "forged"}).status_code == 409
    assert client.post("/api/claim", json={}).json()["item"] is None
    log = client.get("/api/log").json()["decisions"]
    assert [(d["action"], d["moderator"], d["page_id"]) for d in log] == [("reject", "alice", "p1")]
    lines = client.get("/export").text.splitlines()
    assert [json.loads(x)["label"] for x in lines] == ["farm"]
    assert client.post("/api/undo", json={}).json()["undone"]["action"] == "reject"
    assert client.get("/api/export").text == ""


def test_item_page_escapes_the_text_and_highlights_evidence(app_client):
    client, q = app_client
    _login(client)
    text = "<script>alert(1)</script> Uncommon earth exports rose. <img src=x onerror=alert(2)>"
    ev = [{"signal": "spun_phrase", "start": 26, "end": 40, "text": "Uncommon earth",
           "detail": "likely original: rare earth; fits context better"},
          {"signal": "pasted_twice", "start": 26, "end": 55, "text": "", "detail": "copy"}]
    item = q.enqueue(record("x<b>ss</b>", text=text, evidence=ev, url="javascript:alert(3)")).item_id
    html = client.get(f"/items/{item}").text
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>ss" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<mark class="ev ev-pasted_twice ev-spun_phrase"' in html
    assert "likely original: <strong class=\"original\">rare earth</strong>" in html
    assert "script-src 'self'" in client.get(f"/items/{item}").headers["content-security-policy"]
    assert 'href="javascript:' not in html


def test_matched_source_is_shown_side_by_side(app_client):
    client, q = app_client
    _login(client)
    matched = [{"start": 0, "end": 40, "text": "Officials met in Kuala Lumpur on Sunday"}]
    src = {"id": "reuters-1", "url": "http://orig.example/a", "similarity": 0.93,
           "matched": matched, "text": "Reuters - Officials met in Kuala Lumpur on Sunday to talk."}
    a = q.enqueue(record("copy1", text="Officials met in Kuala Lumpur on Sunday. More.", source=src)).item_id
    html = client.get(f"/items/{a}").text
    assert 'id="source-text"' in html and "Reuters - " in html
    assert '<mark class="ev ev-copied_from_source">Officials met in Kuala Lumpur on Sunday</mark>' in html
    # a later page matching the same source finds its text in the store
    b = q.enqueue(record("copy2", source={k: v for k, v in src.items() if k != "text"})).item_id
    assert "Reuters - " in client.get(f"/items/{b}").text
    # an unknown source shows its id, similarity and matched parts
    c = q.enqueue(record("copy3", source={"id": "unknown-9", "similarity": 0.8, "matched": matched})).item_id
    html = client.get(f"/items/{c}").text
    assert "unknown-9" in html and "0.80" in html and "<q>Officials met in Kuala Lumpur on Sunday</q>" in html


def test_mounted_under_a_parent_app_all_urls_carry_the_prefix(db_url):  # noqa: F811
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from moderation import create_queue_app

    parent = FastAPI()
    child = create_queue_app(db_url, risk_threshold=0.5, secret_key="s")
    child.state.queue.add_moderator("alice", PASSWORD)
    child.state.queue.enqueue(record("p1"))
    parent.mount("/queue", child)
    with TestClient(parent) as client:
        r = client.get("/queue/review", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/queue/login?")
        r = client.post("/queue/login", content=f"name=alice&password={PASSWORD}&next=/queue/review",
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/queue/review"
        assert r.cookies and "Path=/queue/" in r.headers["set-cookie"]
        html = client.get("/queue/review").text
        assert 'href="/queue/static/queue.css"' in html and 'data-base="/queue"' in html
        assert client.get("/queue/static/queue.js").status_code == 200
        r = client.post("/queue/login", content="name=alice&password=x&next=//evil.example/",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert "Wrong name or password" in r.text
    child.state.engine.dispose()


# ---- the CLI -----------------------------------------------------------------------------------
def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "farmscore", "queue", *args], input=stdin,
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def test_cli_add_user_import_and_export(db_url, tmp_path, seeds):  # noqa: F811
    r = _cli("add-user", "carol", "--db", db_url, stdin="a long password\n")
    assert r.returncode == 0, r.stderr
    pages = tmp_path / "pages.jsonl"
    lines = [json.dumps({"id": k, "text": v}) for k, v in sorted(seeds.items())]
    lines.append(json.dumps(record("scored-1")))  # an already scored record
    lines.append("{not json")
    pages.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from scoring.score import build_scorer

    scorer = build_scorer()  # what the CLI scores with; the risk threshold is 0.5
    farms = {k for k, t in seeds.items()
             if 1 - min((r := scorer.score(t, k))["originality"], r["quality"]) >= 0.5}
    past, below = len(farms), len(seeds) - len(farms)
    assert farms >= {"000", "002", "003"}
    r = _cli("import", "--jsonl", str(pages), "--db", db_url)
    assert r.returncode == 1  # one refused line
    assert "line 7:" in r.stderr
    assert f"7 read, {past + 1} queued, {below} below threshold, 0 duplicate, 1 refused" in r.stderr
    r = _cli("import", "--jsonl", str(pages), "--db", db_url)
    assert f"0 queued, {below} below threshold, {past + 1} duplicate" in r.stderr
    eng = make_engine(db_url)
    q = ModerationQueue(eng, risk_threshold=0.5)
    assert q.check_login("carol", "a long password")
    queued = {r["page_id"] for r in q.list_items("score")}
    assert queued == farms | {"scored-1"}
    it = q.claim_next("carol")
    q.decide("carol", it["id"], it["lease_token"], "reject", ["pasted_twice"])
    eng.dispose()
    out = tmp_path / "labels.jsonl"
    r = _cli("export", "-o", str(out), "--db", db_url)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["id"], x["label"], x["moderator"]) for x in rows] == [(it["page_id"], "farm", "carol")]
    assert _cli("add-user", "dave", "--password", "short", "--db", db_url).returncode == 2


@pytest.fixture(scope="module")
def demo_records(tmp_path_factory):
    """The five seeds scored as the demo scores them: against an index of their source."""
    from farmscore.seeds import seed_texts, source_record
    from originality import open_index
    from scoring.score import build_scorer

    index = open_index(str(tmp_path_factory.mktemp("seedidx") / "idx"), create=True)
    index.add([source_record()])
    s = build_scorer(index=index)
    recs = [{**s.score(t, f"seed-{n}"), "text": t} for n, t in seed_texts().items()]
    index.close()
    return recs


def _cells(html: str, column: int) -> list[str]:
    import re

    body = html.split('<table class="items" id="items">', 1)[1].split("<tbody>", 1)[1]
    body = body.split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    return [re.findall(r"<td>(.*?)</td>", r, flags=re.S)[column].strip() for r in rows]


def test_queue_shows_distinguishable_risk_and_explains_its_numbers(app_client, demo_records):
    """The demo's seeds all have risk > 0.99: shown with two decimals they all read 1.00
    and priority 0.40, and the order looks arbitrary. Each number differs on the page and
    the page says what each one means."""
    client, q = app_client
    _login(client)
    for rec in demo_records:
        assert q.enqueue(rec).queued
    html = client.get("/").text
    risks, priorities = _cells(html, 1), _cells(html, 2)
    assert len(risks) == 5 and len(set(risks)) == 5, risks
    assert len(set(priorities)) == 5, priorities
    assert all(float(r) > 0.99 for r in risks)
    legend = html.split('id="legend"', 1)[1].split("</dl>", 1)[0]
    for term in ("risk", "priority", "originality", "quality"):
        assert f"<dt>{term}</dt>" in legend, term
    q.claim_next("alice")
    review = client.get("/review").text  # the item alice holds
    assert 'id="legend"' in review


def test_technique_boxes_have_no_duplicates_and_a_key_each(app_client, demo_records):
    """One box per technique (not both copied and copy, spinning and spun), each with
    its own key, none of them a key that already decides (a, x, space, ?)."""
    import re

    client, q = app_client
    _login(client)
    rec = dict(demo_records[1])  # seed 001: spun, and copied from its source
    rec["signals"] = {**rec["signals"], "spinning": 0.9, "copied": 0.9}
    q.enqueue(rec)
    q.claim_next("alice")
    html = client.get("/review").text  # the item alice holds, with its technique boxes
    boxes = re.findall(r'<input type="checkbox" name="technique" value="([^"]+)" data-key="([^"]+)"', html)
    names = [n for n, _ in boxes]
    keys = [k for _, k in boxes]
    assert names and len(names) == len(set(names))
    assert not {"copy", "spun"} & set(names) and {"copied", "spinning"} <= set(names)
    assert len(keys) == len(names) == len(set(keys)) and not set(keys) & {"a", "x", " ", "?"}
    assert all(f"<kbd>{k}</kbd>" in html for k in keys)
    checked = re.findall(r'value="([^"]+)" data-key="[^"]+" checked', html)
    assert {"copied", "spinning"} <= set(checked)
