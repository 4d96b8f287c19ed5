"""Readers for the real public data sets in ``../shared/data`` (see its INVENTORY.md).

Nothing here copies the data into the project; every reader streams from ``data_dir()``.
Articles carry a ``source`` (the collection) and a stable ``id`` so that evaluation can
split by source article and hold out whole collections.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from farmscore.config import data_dir


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    source: str  # collection: "bbc", "reuters", "hvc-human", ...
    title: str
    body: str
    category: str = ""
    #: when the collection dates its stories (Reuters-21578's <DATE>, as ISO 8601 UTC)
    published: str | None = None

    @property
    def text(self) -> str:
        """The article as a page shows it: title, blank line, paragraphs."""
        return f"{self.title}\n\n{self.body}" if self.title else self.body


class DataMissing(FileNotFoundError):
    """The shared data folder (or one set in it) is absent."""


def _need(path: Path) -> Path:
    if not path.exists():
        raise DataMissing(f"{path} not found; set FARMSCORE_DATA to the shared data folder")
    return path


# ---- BBC -----------------------------------------------------------------------------
def bbc_articles(root: Path | None = None, dedupe: bool = True) -> list[Article]:
    """The 2,225 BBC News articles; with ``dedupe`` the 2,127 unique ones (first kept)."""
    base = _need((root or data_dir()) / "bbc-news" / "bbc")
    out: list[Article] = []
    seen: set[str] = set()
    for path in sorted(base.glob("*/*.txt")):
        raw = path.read_bytes()
        try:
            txt = raw.decode("utf-8")
        except UnicodeDecodeError:
            txt = raw.decode("latin-1")
        digest = hashlib.sha1(txt.strip().encode()).hexdigest()
        if dedupe and digest in seen:
            continue
        seen.add(digest)
        title, _, body = txt.strip().partition("\n")
        body = "\n\n".join(p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip())
        out.append(Article(id=f"bbc/{path.parent.name}/{path.stem}", source="bbc",
                           title=title.strip(), body=body, category=path.parent.name))
    return out


def bbc_duplicate_groups(root: Path | None = None) -> list[list[str]]:
    """Ids of BBC files that are exact copies of each other (free positives for copies)."""
    base = _need((root or data_dir()) / "bbc-news" / "bbc")
    groups: dict[str, list[str]] = {}
    for path in sorted(base.glob("*/*.txt")):
        digest = hashlib.sha1(path.read_bytes().strip()).hexdigest()
        groups.setdefault(digest, []).append(f"bbc/{path.parent.name}/{path.stem}")
    return [g for g in groups.values() if len(g) > 1]


# ---- Reuters-21578 -------------------------------------------------------------------
_REUTERS_RE = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.S)
_TITLE_RE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)
_BODY_RE = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_TOPIC_RE = re.compile(r"<TOPICS>(.*?)</TOPICS>", re.S)
_DATE_RE = re.compile(r"<DATE>\s*(\d+-[A-Z]{3}-\d{4} \d\d:\d\d:\d\d)")


def _reflow_reuters(body: str) -> str:
    body = re.sub(r"&#\d+;", "", body)
    body = html.unescape(body)
    body = re.sub(r"\s*Reuter\s*$", "", body.rstrip())
    paras = re.split(r"\n(?=\s{3,}\S)", body)  # an indented line starts a paragraph
    paras = [" ".join(p.split()) for p in paras]
    return "\n\n".join(p for p in paras if p)


def reuters_articles(root: Path | None = None, min_words: int = 0) -> Iterator[Article]:
    """Reuters-21578 stories that have a body, reflowed into paragraphs."""
    base = _need((root or data_dir()) / "reuters21578")
    for path in sorted(base.glob("reut2-*.sgm")):
        raw = path.read_text(encoding="latin-1")
        for m in _REUTERS_RE.finditer(raw):
            block = m.group(2)
            b = _BODY_RE.search(block)
            if not b:
                continue
            body = _reflow_reuters(b.group(1))
            if len(body.split()) < min_words:
                continue
            t = _TITLE_RE.search(block)
            title = html.unescape(re.sub(r"&#\d+;", "", t.group(1))).strip() if t else ""
            topics = re.findall(r"<D>(.*?)</D>", (_TOPIC_RE.search(block) or [None, ""])[1] or "")
            d = _DATE_RE.search(block)
            pub = (datetime.strptime(d.group(1).title(), "%d-%b-%Y %H:%M:%S").isoformat()
                   + "+00:00") if d else None
            yield Article(id=f"reuters/{m.group(1)}", source="reuters", title=title,
                          body=body, category=",".join(topics), published=pub)


# ---- human vs ChatGPT news -------------------------------------------------------------
def hvc_records(kind: str, root: Path | None = None) -> list[dict]:
    """Rows of human-vs-chatgpt-news; ``kind`` is ``human`` or ``chatgpt``."""
    path = _need((root or data_dir()) / "human-vs-chatgpt-news" / f"news_{kind}_generated.jsonl")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---- stop-clickbait headlines ----------------------------------------------------------
def clickbait_headlines(root: Path | None = None) -> tuple[list[str], list[str]]:
    """(clickbait, non_clickbait) headlines of Chakraborty et al. 2016."""
    base = _need((root or data_dir()) / "stop-clickbait")

    def read(name: str) -> list[str]:
        with gzip.open(base / name, "rt", encoding="utf-8", errors="replace") as fh:
            return [ln.strip() for ln in fh if ln.strip()]

    return read("clickbait_data.gz"), read("non_clickbait_data.gz")


def clickbait_word_lists(root: Path | None = None) -> tuple[list[str], list[str]]:
    """(hyperbolic words, common clickbait phrases)."""
    base = _need((root or data_dir()) / "stop-clickbait")
    read = lambda n: [w.strip() for w in (base / n).read_text().splitlines() if w.strip()]  # noqa: E731
    return read("hyperbolic"), read("common_phrases")


def clean_originals(n: int = 1000, root: Path | None = None) -> list[Article]:
    """``n`` clean original articles, half BBC and half Reuters (>= 150 words), fixed order.

    The fixed, documented sample behind every false-positive figure in the README.
    """
    bbc = bbc_articles(root)
    reu = [a for a in reuters_articles(root, min_words=150)]
    half = n // 2
    step_b = max(1, len(bbc) // half)
    step_r = max(1, len(reu) // (n - half))
    return bbc[::step_b][:half] + reu[::step_r][: n - half]


# ---- MRPC ------------------------------------------------------------------------------
def _mrpc_file(part: str, root: Path | None) -> dict[str, None]:
    path = _need((root or data_dir()) / "mrpc" / f"msr_paraphrase_{part}.txt")
    seen: dict[str, None] = {}
    with path.open(encoding="utf-8-sig") as fh:
        next(fh)  # header
        for line in fh:
            for s in line.rstrip("\n").split("\t")[3:5]:
                seen.setdefault(" ".join(s.split()), None)
    seen.pop("", None)
    return seen


def mrpc_sentences(part: str, root: Path | None = None) -> list[str]:
    """The distinct news sentences of MRPC's ``part`` (``train`` or ``test``), in file order.

    The simulator's rewrites take their wording from these: real news sentences that no
    article in the index contains, so a rewrite shares its source's facts, not its words.
    The two files share some sentences; ``train`` leaves those out, so that held-out farms
    are worded with sentences training never saw.
    """
    sents = _mrpc_file(part, root)
    if part == "train":
        test = _mrpc_file("test", root)
        return [s for s in sents if s not in test]
    return list(sents)
