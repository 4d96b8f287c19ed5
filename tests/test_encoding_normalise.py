"""Issue 19 item 11: ``farmscore score --encoding`` is honoured, and every invisible format
or control character is removed by normalisation (U+0890, U+0891 and U+13430-13438 were
not when nothing else on the page needed normalising)."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata

from farmscore.config import REPO_ROOT
from features.document import Document, needs_normalising

PAGE = ("The café on the harbour reopened on Tuesday after the storm, and the owners said "
        "that the council had helped them rebuild the terrace before the summer season. ") * 3


def test_every_format_and_control_character_is_normalised():
    missed = [f"U+{c:04X}" for c in range(0x110000)
              if unicodedata.category(chr(c)) in ("Cf", "Cc") and chr(c) not in "\n\t"
              and not needs_normalising("ab" + chr(c) + "cd")]
    assert missed == []
    for ch in ("\u0890", "\u0891", "\U00013430", "\U00013438"):
        doc = Document.from_text("ab" + ch + "cd efg")
        assert doc.norm == "abcd efg" and doc.removed_chars == 1
        assert doc.to_original(0, 4) == (0, 5)


def test_score_honours_encoding(tmp_path):
    page = tmp_path / "latin1.txt"
    page.write_bytes(PAGE.encode("latin-1"))
    run = lambda *a: subprocess.run([sys.executable, "-m", "farmscore", "score", "--json", *a],  # noqa: E731
                                    capture_output=True, cwd=REPO_ROOT, timeout=300)
    p = run("--encoding", "latin-1", str(page))
    rec = json.loads(p.stdout)
    assert p.returncode == 0 and "error" not in rec, p.stdout[:300]
    utf8 = tmp_path / "utf8.txt"
    utf8.write_text(PAGE, encoding="utf-8")
    same = json.loads(run(str(utf8)).stdout)
    assert {k: rec[k] for k in ("originality", "quality", "signals")} == \
        {k: same[k] for k in ("originality", "quality", "signals")}
    p = run(str(page))  # read as UTF-8 by default: refused, with the byte
    assert p.returncode == 1 and json.loads(p.stdout)["error"]["code"] == "encoding"
