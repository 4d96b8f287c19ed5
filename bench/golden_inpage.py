"""Golden outputs of in-page feature extraction and of the scored record, to prove a speed-up
changes nothing.

    python bench/golden_inpage.py --write /tmp/inpage_golden.jsonl   # before changing code
    python bench/golden_inpage.py --check /tmp/inpage_golden.jsonl   # after: 0 differences

For every page of a large, varied set it records, exactly (floats as ``float.hex``):

* the in-page pipeline (every default extractor but spinning and originality): features,
  evidence spans (signal, offsets, text, detail), meta, or the :class:`InputError` refusal;
* digests of the :class:`Document` views other extractors rely on (words, lower-case words,
  lines, line texts, paragraphs, word starts, the offset map, removed / control counts), so
  a faster ``Document`` is held to the same meaning;
* ``build_scorer().score_or_error(text, explain=True)``: the full output record (with
  spinning, which is unchanged here, and the model's contributions).

Pages: the five seeds; ``--originals`` BBC and Reuters articles (``clean_originals``); farm
pages from ``training.simulator`` (pasted twice, clickbait tails, disclaimers, comment
forms, template frames, spinning, rewrites) with both the train and the test kit; real web
pages of web-extraction-2025 with their boilerplate lines; GPT rewrites; text variants
(CRLF, zero-width characters, upper case, no blank lines); and hostile inputs (empty, white
space only, one huge line, binary-ish characters, invalid UTF-8 bytes, mixed scripts,
length-changing case maps). The set is deterministic: the same code gives the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.document import Document, InputError  # noqa: E402
from features.originality import OriginalityExtractor  # noqa: E402
from features.pipeline import FeaturePipeline, default_extractors  # noqa: E402
from features.spinning import SpinningExtractor  # noqa: E402


def inpage_pipeline() -> FeaturePipeline:
    """The default pipeline without the spinning and originality families."""
    exs = [ex for ex in default_extractors()
           if not isinstance(ex, (SpinningExtractor, OriginalityExtractor))]
    return FeaturePipeline(extractors=exs)


# ---- the pages ---------------------------------------------------------------------------
def hostile_pages() -> Iterator[tuple[str, str | bytes]]:
    """Inputs a server must survive, with the same answer every time."""
    from training.corpus import bbc_articles

    bbc = bbc_articles()
    long_text = " ".join(a.body.replace("\n", " ") for a in bbc[:60])  # one huge line
    yield "empty", ""
    yield "space", " "
    yield "whitespace", " \n\n\t \r\n \x0c\x0b "
    yield "zw_only", "\u200b\u200c\u200d\ufeff"
    yield "zw_and_space", "\u200b \n \u2060 "
    yield "nul_bytes", b"\x00" * 100 + b"text"
    yield "nul_str", "\x00" * 100 + "text"
    yield "few_nul_bytes", b"abc\x00def ghi\x00 jkl words here"
    yield "bad_utf8", b"Some text \xff\xfe then more"
    yield "latin1_bytes", "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, \u00a3100".encode("latin-1")
    yield "utf8_bytes", ("Caf\u00e9 cr\u00e8me. " * 50).encode("utf-8")
    yield "too_large", "a" * 1_000_001
    yield "huge_line", long_text[:400_000]
    yield "huge_word", "x" * 50_000
    yield "binaryish", "".join(map(chr, range(256))) * 8
    yield "binaryish_few", "Hello world.\x01\x02\x03 This is text\x7f with \x85 NEL and \x9b CSI."
    yield "astral", "Emoji \U0001f600 and \U0001d400\U0001d401 math \U00020000 han. " * 20
    yield "surrogate", "Lone \ud800 surrogate and \udfff another, then words."
    yield "one_char", "a"
    yield "one_digit", "7"
    yield "digits", "12345 67890 2024 1,000,000 3.14"
    yield "punct", "!!! ??? ... --- *** ### ''' \"\"\" ’’’"
    yield "apostrophes", ("rock 'n' roll it's can't ''quoted'' 'tis o'clock James’ "
                          "don’t ’’x’’ a'b'c d''e '' ' '") * 10
    yield "case_maps", ("\u0130stanbul \u0130Z\u0130K \u03a3\u0391\u03a3 STRASSE Stra\u00dfe "
                        "\u01c5ungla \ufb01ne \u0149 \u1e9e \u2126. ") * 20
    yield "mixed_scripts", (
        "The \u0430pple ceo T\u0456m C\u043e\u043ek said on Monday. "
        "\u4e60\u8fd1\u5e73 met Nguy\u1ec5n Ph\u00fa Tr\u1ecdng in H\u00e0 N\u1ed9i. "
        "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \u041f\u0440\u0438\u0432\u0435\u0442 "
        "\ud55c\uad6d\uc5b4 \u3072\u3089\u304c\u306a e\u0301te\u0301 cafe\u0301 "
        "\u0661\u0662\u0663 \u00b2\u00b3 \u2460 \u216b.\n") * 15
    yield "bidi", "Normal \u202eesrever\u202c text \u2066isolate\u2069 and \u200fRLM marks. " * 30
    yield "zw_in_words", "Bu\u200by che\u200bap vi\u200cagra n\u200dow at \u2060pharmacy. " * 40
    yield "soft_hyphen", "Extra\u00adordinary pro\u00adnun\u00adci\u00ada\u00adtion. " * 30
    yield "line_seps", "First line\u2028second line\u2029third\x1cfourth\x1dfifth\x1esixth\n" * 20
    yield "nbsp", "Non\u00a0breaking\u00a0spaces\u2009thin\u3000ideographic space.\n\n" * 30
    yield "crlf_only", "\r\n" * 50 + "x"
    yield "lone_cr", "Line one\rLine two\rLine three.\r" * 30
    yield "tabs", "Column\tColumn\tColumn\n\tIndented\t\n" * 40
    yield "many_short_lines", "\n".join(f"Item {i}" for i in range(3000))
    yield "blank_lines", "\n\n\n\n".join(["Para."] * 300)
    yield "ha_ha", "ha " * 3000
    yield "pasted_5x", "\n\n".join([bbc[1].text] * 5)
    yield "upper", bbc[2].text.upper()
    yield "bullets", "\n".join(f"\u2022 Point number {i} is here" for i in range(200))
    yield "markers", ("Real story text goes here with a long sentence about trade talks.\n" * 20
                      + "You may also like\n"
                      + "\n".join(f"You Won't Believe What Happened Next {i}" for i in range(8)))
    yield "headings", "\n".join(["Title", "Executive Summary", "Text.", "Why This Matters?",
                                 "More text here.", "Key Takeaways", "FAQ", "Final Thoughts"] * 20)
    yield "html_ish", "<div class='x'>Hello &amp; welcome</div>\n<p>Para</p>\n" * 50
    yield "only_numbers_lines", "\n".join(str(i) for i in range(1000))
    yield "sentence_ends", ("He said. \"Yes.\" (Then) [x]. 3 cats. 'Quote.' Done! Why? A. "
                            "B.C. U.S. Mr. Smith. ...Ellipsis... end.  \n") * 30


def variants(text: str, rng: random.Random) -> Iterator[tuple[str, str]]:
    """The same article, mangled the way scraped pages are."""
    yield "crlf", text.replace("\n", "\r\n")
    words = text.split(" ")
    for i in rng.sample(range(len(words)), min(len(words), 12)):
        words[i] = words[i][:1] + "\u200b" + words[i][1:]
    yield "zw", " ".join(words)
    yield "oneline", text.replace("\n", " ")
    yield "noblank", text.replace("\n\n", "\n")
    yield "upper", text.upper()
    yield "bom_tabs", "\ufeff" + text.replace("\n\n", "\n\t\n")


def all_pages(n_originals: int, n_farm_originals: int) -> Iterator[tuple[str, str | bytes]]:
    from farmscore.config import data_dir, seeds_dir
    from training.corpus import bbc_articles, clean_originals, hvc_records, mrpc_sentences, reuters_articles
    from training.dataset import headline_kits, is_indexed
    from training.simulator import Kit, Simulator

    for p in sorted(seeds_dir().glob("0*.txt")):
        yield f"seed/{p.name}", p.read_text(encoding="utf-8")
    yield from ((f"hostile/{k}", t) for k, t in hostile_pages())
    originals = clean_originals(n_originals)
    for a in originals:
        yield f"orig/{a.id}", a.text
    rng = random.Random(7)
    for a in originals[::40]:
        for k, t in variants(a.text, rng):
            yield f"variant/{k}/{a.id}", t
    train_heads, test_heads = headline_kits()
    bbc = bbc_articles()
    reu = list(reuters_articles(min_words=150))
    sim = Simulator()
    for split, heads, part, pool in (("train", train_heads, "train", bbc[::2]),
                                     ("test", test_heads, "test", bbc[1::2] + reu[::7])):
        kit = Kit.build(split, heads, mrpc_sentences(part))
        chosen = pool[:: max(1, len(pool) // (n_farm_originals // 2))][: n_farm_originals // 2]
        for page in sim.pages(chosen, split, kit, is_indexed):
            if page.techniques or page.hard_negative:
                yield f"farm/{split}/{page.id}", page.text
    for i, r in enumerate(hvc_records("chatgpt")[::3]):
        if r.get("text", "").strip():
            yield f"hvc/{i}", f"{r['title_en']}\n\n{r['text']}"
    gt = sorted((data_dir() / "web-extraction-2025" / "ground-truth").glob("*.json"))
    for path in gt[::3]:
        g = json.loads(path.read_text(encoding="utf-8"))["ground_truth"]
        body = g.get("main_content") or ""
        if not body:
            continue
        chrome = "\n".join(g.get("without") or [])
        yield f"web/{path.stem}", f"{g.get('title') or ''}\n\n{body}\n\n{chrome}"


# ---- what is recorded ------------------------------------------------------------------------
def exact(x):
    """Floats as ``float.hex`` (exact, NaN and infinities included), recursively."""
    if isinstance(x, float):
        return x.hex()
    if isinstance(x, dict):
        return {str(k): exact(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [exact(v) for v in x]
    return x


def digest(obj) -> str:
    return hashlib.sha1(repr(obj).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def doc_views(doc: Document) -> dict:
    return {
        "norm": digest(doc.norm),
        "words": digest(doc.words),
        "lower_words": digest(doc.lower_words),
        "lines": digest(doc.lines),
        "line_texts": digest(doc.line_texts),
        "paragraphs": digest(doc.paragraphs),
        "word_starts": digest(doc.word_starts.tolist()),
        "offset_map": None if doc.offset_map is None else digest(doc.offset_map.tolist()),
        "removed": doc.removed_chars,
        "controls": doc.control_chars,
        "n_words": len(doc.words),
    }


def record(pid: str, text, pipe: FeaturePipeline, scorer) -> dict:
    out: dict = {"id": pid}
    try:
        page = pipe.run(text)
    except InputError as exc:
        out["inpage"] = {"error": exc.to_dict()}
    else:
        out["inpage"] = {
            "features": exact(page.features),
            "evidence": [sp.to_dict() for sp in page.evidence],
            "meta": exact(page.meta),
        }
        out["doc"] = doc_views(page.doc)
    out["record"] = exact(scorer.score_or_error(text, page_id=pid, explain=True))
    return out


def compute(args) -> Iterator[dict]:
    from scoring.score import build_scorer

    pipe = inpage_pipeline()
    scorer = build_scorer()
    for pid, text in all_pages(args.originals, args.farm_originals):
        yield record(pid, text, pipe, scorer)


def first_difference(a, b, path: str = "") -> str:
    if type(a) is not type(b):
        return f"{path}: {a!r:.200} != {b!r:.200}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'golden' if k in a else 'new'}"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return ""
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return ""
    return "" if a == b else f"{path}: {a!r:.200} != {b!r:.200}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", metavar="FILE")
    g.add_argument("--check", metavar="FILE")
    ap.add_argument("--originals", type=int, default=3000, help="clean BBC + Reuters articles")
    ap.add_argument("--farm-originals", type=int, default=700,
                    help="originals farmed by the simulator (about 3.3 pages each)")
    ap.add_argument("--show", type=int, default=10, help="differences printed at most")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.write:
        n = 0
        with open(args.write, "w", encoding="utf-8") as fh:
            for rec in compute(args):
                fh.write(json.dumps(rec, ensure_ascii=True) + "\n")
                n += 1
        print(f"wrote {n} pages to {args.write} in {time.perf_counter() - t0:.0f} s")
        return 0
    golden = {}
    with open(args.check, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            golden[rec["id"]] = rec
    n = diffs = 0
    seen = set()
    for rec in compute(args):
        # through JSON, as written: tuples become lists, surrogates survive
        rec = json.loads(json.dumps(rec, ensure_ascii=True))
        n += 1
        seen.add(rec["id"])
        old = golden.get(rec["id"])
        d = "new page, not in the golden file" if old is None else first_difference(old, rec)
        if d:
            diffs += 1
            if diffs <= args.show:
                print(f"DIFF {rec['id']}: {d}")
    missing = len(set(golden) - seen)
    print(f"checked {n} pages against {args.check}: {diffs} with differences, "
          f"{missing} golden pages missing ({time.perf_counter() - t0:.0f} s)")
    return 1 if diffs or missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
