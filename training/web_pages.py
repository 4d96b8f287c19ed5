"""Real web pages with their main content marked, read from ``../shared/data``.

Two benchmarks of main-content extraction hold real pages of real sites:

* web-extraction-2025: 452 article/blog pages as HTML, each with its ``main_content``;
* trafilatura-eval: 160 English pages as HTML, each with a few "with" (main content) and
  "without" (boilerplate) snippets.

Every line of such a page that is not its main content is the chrome of a real site
(navigation, share bars, credits, related links, comment forms, legal lines), which is what
the line classifier learns from and what clean pages must be allowed to carry. Pages are
split by host (:func:`training.mine_boilerplate.is_heldout`), never by line, so that what is
measured on held-out hosts is a site's boilerplate no training line came from.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from farmscore.config import data_dir
from features.boilerplate import norm_key
from training.mine_boilerplate import is_heldout, site_of


@dataclass
class WebPage:
    """One real page: its visible text as farmscore extracts it, and per-line labels."""

    id: str
    site: str
    source: str  # "web2025" | "trafilatura"
    text: str  # html_to_text of the page
    title: str
    #: one label per non-empty line of ``text`` (stripped): "article", "boilerplate" or ""
    #: (unknown: trafilatura pages mark only a few snippets)
    labels: list[str] = field(default_factory=list)

    @property
    def heldout(self) -> bool:
        return is_heldout(self.site)

    @property
    def lines(self) -> list[str]:
        return [ln.strip() for ln in self.text.splitlines() if ln.strip()]

    def main_text(self) -> str:
        """The lines labelled article, in page order (the page without its chrome)."""
        return "\n\n".join(ln for ln, lab in zip(self.lines, self.labels) if lab == "article")


def _label_web2025(lines: list[str], main: str, title: str) -> list[str]:
    main_lines = {norm_key(x) for x in main.splitlines() if x.strip()}
    main_all = " " + norm_key(main) + " "
    title_key = norm_key(title)
    out = []
    for ln in lines:
        key = norm_key(ln)
        if not key:
            out.append("")
        elif key in main_lines or key == title_key or (key.count(" ") >= 5 and f" {key} " in main_all):
            out.append("article")
        else:
            out.append("boilerplate")
    return out


def _label_snippets(lines: list[str], with_: list[str], without: list[str]) -> list[str]:
    wk = [k for k in (norm_key(s) for s in with_) if k]
    bk = [k for k in (norm_key(s) for s in without) if k]
    out = []
    for ln in lines:
        key = norm_key(ln)
        lab = ""
        if key:
            if any(k in key for k in wk if k.count(" ") >= 2) or (
                    key.count(" ") >= 4 and any(key in k for k in wk)):
                lab = "article"
            elif any(key == k or (k.count(" ") >= 1 and k in key and len(key) <= 2 * len(k))
                     for k in bk):
                lab = "boilerplate"
        out.append(lab)
    return out


def web2025_pages(root: Path | None = None) -> Iterator[WebPage]:
    from serving.html import html_to_text

    base = (root or data_dir()) / "web-extraction-2025"
    for gt in sorted((base / "ground-truth").glob("*.json")):
        html = base / "html" / f"{gt.stem}.html.gz"
        if not html.exists():
            continue
        rec = json.loads(gt.read_text(encoding="utf-8"))
        truth = rec.get("ground_truth") or {}
        main = truth.get("main_content") or ""
        if not main.strip():
            continue
        with gzip.open(html, "rt", encoding="utf-8", errors="replace") as fh:
            text = html_to_text(fh.read())
        page = WebPage(f"web2025/{gt.stem}", site_of(rec.get("url", "")), "web2025", text,
                       truth.get("title") or "")
        page.labels = _label_web2025(page.lines, main, page.title)
        yield page


def trafilatura_pages(root: Path | None = None) -> Iterator[WebPage]:
    from serving.html import html_to_text

    base = (root or data_dir()) / "trafilatura-eval"
    with open(base / "english_pages.tsv", encoding="utf-8") as fh:
        urls = {r["file"]: r["url"] for r in csv.DictReader(fh, delimiter="\t")}
    evald = json.loads((base / "evaldata.json").read_text(encoding="utf-8"))
    by_file = {v["file"]: v for v in evald.values()}
    for f, url in sorted(urls.items()):
        path = base / "eval" / f
        rec = by_file.get(f)
        if not path.exists() or rec is None:
            continue
        text = html_to_text(path.read_text(encoding="utf-8", errors="replace"))
        page = WebPage(f"trafilatura/{f}", site_of(url), "trafilatura", text, rec.get("title") or "")
        page.labels = _label_snippets(page.lines, rec.get("with") or [], rec.get("without") or [])
        yield page


@lru_cache(maxsize=2)
def web_pages(root: Path | None = None) -> list[WebPage]:
    """Both benchmarks' pages (cached per process: parsing 600 pages takes a few seconds)."""
    return list(web2025_pages(root)) + list(trafilatura_pages(root))


def family_label(line: str, bp) -> str:
    """The chrome family of a boilerplate line, by the hand rules, else by the miner's."""
    from features.boilerplate import norm_key
    from training.mine_boilerplate import family_of

    hit = bp.classify_line(line) if len(line) <= bp.max_line_chars else None
    if hit:
        return hit[0]
    fam = family_of(norm_key(line))
    return fam or "other_boilerplate"


def _is_related_line(line: str) -> bool:
    """A headline-shaped line: 4-20 words, no sentence-final full stop."""
    n = len(line.split())
    return 4 <= n <= 20 and not line.rstrip().endswith((".", ":", ";", ","))


def chrome_runs(heldout: bool, root: Path | None = None) -> list[list[tuple[str, str]]]:
    """Runs of consecutive boilerplate lines of real pages (one side of the host split),
    each line with its family: the chrome a farm pastes around an article."""
    from features.boilerplate import BoilerplateExtractor

    bp = BoilerplateExtractor()
    runs = []
    for p in web_pages(root):
        if p.heldout != heldout:
            continue
        run: list[tuple[str, str]] = []
        for ln, lab in [*zip(p.lines, p.labels), ("", "article")]:
            if lab == "boilerplate":
                run.append((ln, family_label(ln, bp)))
            else:
                if run:
                    runs.append(run)
                run = []
    return runs


def _sub_runs(run: list[tuple[str, str]], keep) -> list[list[str]]:
    """The maximal stretches of ``run`` whose (line, family) ``keep`` accepts."""
    out, cur = [], []
    for ln, fam in [*run, ("", "")]:
        if ln and keep(ln, fam):
            cur.append(ln)
        else:
            if cur:
                out.append(cur)
            cur = []
    return out


@lru_cache(maxsize=4)
def chrome_material(heldout: bool, root: Path | None = None) -> dict[str, list]:
    """Real chrome of one side of the host split, for the simulator's kits (read only).

    ``ordinary``: single share/credit/navigation/legal/other lines a clean page may carry;
    ``disclaimer``: lines the rules call disclaimers; ``comment_form``: runs of comment-form
    lines; ``tails``: runs of 3+ headline-shaped chrome lines (related-content blocks of real
    sites, with no marker of ours). Deduplicated, in a stable order.
    """
    ordinary: dict[str, None] = {}
    disclaimer: dict[str, None] = {}
    forms: dict[tuple[str, ...], None] = {}
    tails: dict[tuple[str, ...], None] = {}
    for run in chrome_runs(heldout, root):
        for form in _sub_runs(run, lambda ln, fam: fam == "comment_form"):
            if len(form) >= 2:
                forms[tuple(form[:8])] = None
        for tail in _sub_runs(run, lambda ln, fam: _is_related_line(ln)
                              and fam in ("other_boilerplate", "legal_nav")):
            if len(tail) >= 3:
                tails[tuple(tail[:8])] = None
        for ln, fam in run:
            nw = len(ln.split())
            if fam == "disclaimer" and 4 <= nw and len(ln) <= 400:
                disclaimer[ln] = None
            elif (fam in ("share_subscribe", "photo_credit", "legal_nav") and nw <= 12) or \
                    (fam == "other_boilerplate" and 1 <= nw <= 4):
                ordinary[ln] = None
    return {"ordinary": list(ordinary), "disclaimer": list(disclaimer),
            "comment_form": [list(f) for f in forms], "tails": [list(t) for t in tails]}
