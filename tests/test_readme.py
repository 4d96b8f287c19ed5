"""The README's first screen is for a new user; the measurements live in docs/."""

from __future__ import annotations

from farmscore.config import REPO_ROOT

README = REPO_ROOT / "README.md"


def test_first_screen_says_what_it_is_how_to_run_it_and_what_it_needs():
    text = README.read_text(encoding="utf-8")
    first = "\n".join(text.splitlines()[:60])
    assert "content farm" in first
    for needed in ("make demo", "make test", "PostgreSQL", "Redis", "apt-get", "root",
                   "--port", "memory", "GB"):
        assert needed in first, needed
    assert len(text.encode()) < 40_000  # was 67 KB of benchmarks and model history


def test_measurements_moved_to_docs_and_linked():
    from bench.suite import END, START, write_readme

    text = README.read_text(encoding="utf-8")
    for doc in ("docs/measured.md", "docs/benchmarks.md"):
        assert (REPO_ROOT / doc).exists() and f"]({doc})" in text, doc
    bench = (REPO_ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert START in bench and END in bench and START not in text
    assert write_readme.__defaults__[0] == REPO_ROOT / "docs" / "benchmarks.md"
