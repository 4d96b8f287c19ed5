// farmscore moderation queue: keyboard triage on the review page.
// Data from pages is only ever written with textContent (never innerHTML), and every URL
// is built from <body data-base>, so the app works standalone and mounted at /queue.
"use strict";

(function () {
  const base = document.body.dataset.base || "";
  const status = document.getElementById("status");
  const review = document.getElementById("review");
  const help = document.getElementById("help");
  let busy = false;

  function say(msg, isError) {
    if (!status) return;
    status.textContent = msg;
    status.className = isError ? "error" : "ok";
  }

  // a message carried over the page change that follows a decision
  const flash = sessionStorage.getItem("fsq-flash");
  if (flash) {
    sessionStorage.removeItem("fsq-flash");
    say(flash, false);
  }

  async function api(path, body) {
    const resp = await fetch(base + "/api" + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : resp.statusText;
      const err = new Error(detail);
      err.status = resp.status;
      throw err;
    }
    return data;
  }

  // After a decision: claim the next item (a JSON POST: GET /review claims nothing), then
  // show it; when there is none, the review page says so.
  async function next(msg) {
    if (msg) sessionStorage.setItem("fsq-flash", msg);
    let url = review ? review.dataset.next : base + "/review";
    try {
      const got = await api("/claim", {
        view: (review && review.dataset.view) || "priority",
        technique: (review && review.dataset.technique) || null,
      });
      if (!got || !got.item) url += (url.indexOf("?") >= 0 ? "&" : "?") + "empty=1";
    } catch (e) {
      // shown on the review page, which offers to claim again
    }
    window.location.assign(url);
  }

  function checkedTechniques() {
    return Array.from(document.querySelectorAll("#techs input[name=technique]:checked")).map((i) => i.value);
  }

  async function decide(action) {
    if (busy || !review || !review.dataset.lease) return;
    const techniques = action === "reject" ? checkedTechniques() : [];
    if (action === "reject" && techniques.length === 0) {
      say("Tick at least one technique (the key beside it) to reject.", true);
      return;
    }
    busy = true;
    const pageId = review.dataset.pageId;
    try {
      await api("/items/" + review.dataset.itemId + "/decision",
                { action: action, lease_token: review.dataset.lease, techniques: techniques });
      const verb = { approve: "Approved", reject: "Rejected", skip: "Skipped" }[action];
      next(verb + " " + pageId + (techniques.length ? " (" + techniques.join(", ") + ")" : ""));
    } catch (e) {
      busy = false;
      say("Not recorded: " + e.message, true);
      if (e.status === 409) setTimeout(() => next(), 1500);
    }
  }

  async function undo() {
    if (busy) return;
    busy = true;
    try {
      const d = await api("/undo", {});
      next("Undid " + d.undone.action + " of " + d.undone.page_id);
    } catch (e) {
      busy = false;
      say("Cannot undo: " + e.message, true);
    }
  }

  async function claimThis() {
    if (busy || !review) return;
    busy = true;
    try {
      await api("/items/" + review.dataset.itemId + "/claim", {});
      window.location.assign(base + "/review");
    } catch (e) {
      busy = false;
      say("Cannot review it: " + e.message, true);
    }
  }

  function toggleHelp(show) {
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  // each technique box carries its key (data-key: 1-9, 0, then q, w, ...): every box has one
  function techniqueBox(key) {
    for (const box of document.querySelectorAll("#techs input[name=technique]")) {
      if (box.dataset.key && box.dataset.key === key) return box;
    }
    return null;
  }

  const onReviewPage = review && review.dataset.reviewing === "yes";

  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" && t.type !== "checkbox" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    if (ev.key === "?") { ev.preventDefault(); toggleHelp(); return; }
    if (ev.key === "Escape") { toggleHelp(false); return; }
    if (!onReviewPage) return;
    if (ev.key === "a") { ev.preventDefault(); decide("approve"); }
    else if (ev.key === "x") { ev.preventDefault(); decide("reject"); }
    else if (ev.key === " " || ev.code === "Space") { ev.preventDefault(); decide("skip"); }
    else if (ev.key === "Backspace") { ev.preventDefault(); undo(); }
    else {
      const box = techniqueBox(ev.key);
      if (box) { ev.preventDefault(); box.checked = !box.checked; }
    }
  });

  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest && ev.target.closest("button[data-action]");
    if (!btn) return;
    const a = btn.dataset.action;
    if (a === "undo") undo();
    else if (a === "help") toggleHelp();
    else if (a === "claim") claimThis();
    else decide(a);
  });

  // keep the lease alive while the page is open (leases expire so abandoned tabs free items)
  if (onReviewPage && review.dataset.lease) {
    setInterval(() => {
      api("/items/" + review.dataset.itemId + "/renew", { lease_token: review.dataset.lease })
        .catch((e) => say("Lease lost: " + e.message + " (reload to continue)", true));
    }, 60000);
  }
})();
