"""The moderation queue in a real browser: Playwright drives Debian's headless chromium
against uvicorn on a free localhost port, with the queue mounted at /queue under a parent
app (as it will be under the scoring API), on SQLite and on PostgreSQL.

A moderator signs in, triages three scored seed pages by keyboard (a, x, backspace, a, x),
and the test checks the log page and the export; then an item whose text is
``<script>alert(1)</script>`` must render as text: no dialog, no script element. Skips only
when /usr/bin/chromium is absent (Debian: ``apt-get install chromium``).

Contexts bypass the app's Content-Security-Policy: Playwright's waits evaluate JavaScript,
which the CSP forbids, and without the CSP the escaping test is stricter, since an unescaped
``<script>`` would then really run and open a dialog.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moderation.testing import db_url, pg_schemas, record, serve  # noqa: F401 - fixtures

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "browser pass 1"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def scored_seeds(seeds):
    """Three seed pages the rules flag, scored for real (with text, as import takes them)."""
    from scoring.score import build_scorer

    s = build_scorer()
    out = []
    for k in ("000", "002", "003"):
        rec = s.score(seeds[k], f"seed-{k}")
        rec["text"] = seeds[k]
        out.append(rec)
    return out


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def site(db_url, scored_seeds):  # noqa: F811
    from fastapi import FastAPI

    from moderation import create_queue_app

    child = create_queue_app(db_url, risk_threshold=0.5, secret_key="browser-test")
    q = child.state.queue
    q.add_moderator("mia", PASSWORD)
    for rec in scored_seeds:
        assert q.enqueue(rec).queued
    parent = FastAPI()
    parent.mount("/queue", child)
    with serve(parent) as url:
        yield url + "/queue", q
    child.state.engine.dispose()


def _review_item(page) -> str:
    page.wait_for_selector("#page-id")
    return page.locator("#page-id").text_content()


def test_sign_in_triage_by_keyboard_undo_log_and_export(browser, site):
    base, q = site
    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(base + "/review")
    assert "/queue/login" in page.url  # not signed in yet
    page.fill("#name", "mia")
    page.fill("#password", "wrong")
    page.click("#signin")
    assert page.locator("#login-error").is_visible()
    page.fill("#name", "mia")
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_url("**/queue/review")
    assert page.locator("#unclaimed").is_visible()  # a GET claims nothing
    assert q.counts()["claimed"] == 0
    page.keyboard.press("Enter")  # the claim form's button has the focus: POST /review

    first = _review_item(page)
    assert page.locator("#article mark").count() > 0  # evidence highlighted
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#help").is_visible()

    page.keyboard.press("a")  # approve the first
    page.wait_for_function("document.querySelector('#page-id') && "
                           f"document.querySelector('#page-id').textContent !== {json.dumps(first)}")
    assert page.locator("#status").text_content() == f"Approved {first}"
    second = _review_item(page)
    checked = page.locator("#techs input:checked").evaluate_all("els => els.map(e => e.value)")
    assert checked, "detected techniques come pre-ticked"
    # every box has its own key, past the ninth too: each one toggles its box, twice back
    boxes = page.locator("#techs input[name=technique]")
    keys = boxes.evaluate_all("els => els.map(e => e.dataset.key)")
    assert len(keys) > 9 and all(keys) and len(set(keys)) == len(keys)
    for i, key in enumerate(keys):
        before = boxes.nth(i).is_checked()
        page.keyboard.press(key)
        assert boxes.nth(i).is_checked() is not before, key
        page.keyboard.press(key)
        assert boxes.nth(i).is_checked() is before, key
    page.keyboard.press("x")  # reject the second with them
    page.wait_for_function(f"document.querySelector('#page-id').textContent !== {json.dumps(second)}")
    third = _review_item(page)
    assert len({first, second, third}) == 3

    page.keyboard.press("Backspace")  # undo the reject: the second comes back
    page.wait_for_function(f"document.querySelector('#page-id').textContent === {json.dumps(second)}")
    assert page.locator("#status").text_content() == f"Undid reject of {second}"
    page.keyboard.press("a")  # now approve it
    page.wait_for_function(f"document.querySelector('#page-id').textContent === {json.dumps(third)}")
    page.keyboard.press("x")  # reject the third
    page.wait_for_selector("#empty")

    page.click("#nav-log")
    page.wait_for_selector("#log")
    rows = page.locator("#log tbody tr").evaluate_all(
        "trs => trs.map(tr => [tr.children[2].textContent.trim(), tr.children[3].textContent.trim(),"
        " tr.children[4].textContent.trim()])")
    assert rows == [["mia", "reject", third], ["mia", "approve", second], ["mia", "undo", second],
                    ["mia", "reject", second], ["mia", "approve", first]]

    resp = ctx.request.get(base + "/export")  # the browser's session cookie
    assert resp.ok
    labels = {r["id"]: (r["label"], r["moderator"]) for r in map(json.loads, resp.text().splitlines())}
    assert labels == {first: ("clean", "mia"), second: ("clean", "mia"), third: ("farm", "mia")}
    assert [d["action"] for d in reversed(q.log())] == ["approve", "reject", "undo", "approve", "reject"]
    assert dialogs == []
    ctx.close()


def test_script_in_a_page_renders_as_text(browser, site):
    base, q = site
    text = ("<script>alert(1)</script>\nBreaking: <img src=x onerror=alert(2)> officials met.\n" * 3)
    ev = [{"signal": "pasted_twice", "start": 0, "end": 25, "text": "<script>alert(1)</script>",
           "detail": "<b>bold?</b>"}]
    item = q.enqueue(record("<script>alert(3)</script>", text=text, evidence=ev,
                            quality=0.49)).item_id  # risk .51: first in priority order
    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(base + "/login")
    page.fill("#name", "mia")
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_url("**/queue/")
    page.goto(f"{base}/review")
    page.click("#claim-next")
    assert _review_item(page) == "<script>alert(3)</script>"
    assert page.locator("#article").text_content() == text
    assert page.locator("#article mark.ev-pasted_twice").text_content() == "<script>alert(1)</script>"
    assert page.locator("#article script, #article img, #review b").count() == 0
    assert page.locator("#evidence").text_content().count("<b>bold?</b>") == 1
    page.keyboard.press(" ")  # skip it
    page.wait_for_function("!document.querySelector('#page-id') || "
                           "document.querySelector('#page-id').textContent !== '<script>alert(3)</script>'")
    assert [d["action"] for d in q.log(item_id=item)] == ["skip"]
    page.goto(f"{base}/items/{item}")
    assert page.locator("#article").text_content() == text
    assert dialogs == []
    ctx.close()
