"""The ``farmscore`` command line, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from farmscore.config import REPO_ROOT, seeds_dir

SEEDS = sorted(str(p) for p in seeds_dir().glob("0*.txt"))
KEYS = {"id", "originality", "quality", "verdict", "signals", "evidence", "source", "model"}


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "farmscore", *args], input=stdin,
                          capture_output=True, cwd=REPO_ROOT, timeout=300)


def test_score_files_piped_gives_jsonl_contract():
    p = run("score", *SEEDS)
    assert p.returncode == 0, p.stderr
    recs = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert len(recs) == 5
    for r in recs:
        assert set(r) == KEYS
        assert 0.0 <= r["originality"] <= 1.0 and 0.0 <= r["quality"] <= 1.0
        assert r["verdict"] in {"ok", "suspect", "farm"}
        assert all(0.0 <= v <= 1.0 for v in r["signals"].values())
        assert {"name", "version"} <= set(r["model"])
        for e in r["evidence"]:
            assert set(e) == {"signal", "start", "end", "text", "detail"}
    by = {r["id"][:3]: r for r in recs}
    assert by["000"]["verdict"] == "farm" and by["002"]["verdict"] == "farm"
    assert by["000"]["quality"] < by["004"]["quality"]


def test_evidence_offsets_index_the_input_text():
    p = run("score", "--json", SEEDS[0])
    rec = json.loads(p.stdout)
    text = open(SEEDS[0], encoding="utf-8").read()
    for e in rec["evidence"]:
        assert text[e["start"]:e["end"]].startswith(e["text"][:50])


def test_table_format_is_readable():
    p = run("score", "--format", "table", *SEEDS)
    out = p.stdout.decode()
    assert "orig" in out and "qual" in out and "verdict" in out
    assert sum(line.startswith("00") for line in out.splitlines()) == 5
    from scoring.score import build_scorer

    assert f"model: {build_scorer().model_info['name']}" in out


def test_jsonl_in_out_keeps_order_and_reports_bad_lines(tmp_path):
    good = open(SEEDS[1], encoding="utf-8").read()
    lines = [
        json.dumps({"id": "a", "text": good, "url": "https://example.com/a"}),
        "{not json",
        json.dumps({"id": "b", "text": "   "}),
        json.dumps({"text": "no id"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": 7, "text": 42}),
        "",
        json.dumps({"id": "c", "text": good}),
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes("\n".join(lines).encode() + b"\n" + b'{"id": "d", "text": "caf\xe9"}\n')
    out = tmp_path / "out.jsonl"
    p = run("score", "--jsonl", str(src), "-o", str(out))
    assert p.returncode == 1  # some input refused; the output is still complete
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r.get("id") for r in recs] == ["a", None, "b", None, None, 7, "c", None]
    assert [r["error"]["code"] for r in recs if "error" in r] == ["json", "empty", "field", "type",
                                                                  "field", "encoding"]
    assert set(recs[0]) == KEYS and set(recs[6]) == KEYS
    assert b"8 records, 6 refused" in p.stderr


def test_jsonl_from_stdin_to_stdout():
    text = open(SEEDS[0], encoding="utf-8").read()
    p = run("score", "--jsonl", "-", stdin=(json.dumps({"id": "x", "text": text}) + "\n").encode())
    assert p.returncode == 0
    assert json.loads(p.stdout)["verdict"] == "farm"


def test_features_command_prints_schema_features():
    p = run("features", SEEDS[0])
    rec = json.loads(p.stdout)
    from features.schema import current_schema

    assert list(rec["features"]) == list(current_schema().names)
    assert any(e["signal"] == "pasted_twice" for e in rec["evidence"])


@pytest.mark.parametrize("content,code", [(b"", "empty"), (b"\x00\x01\x02" * 500, "binary"),
                                          (b"caf\xe9 au lait and more", "encoding")])
def test_bad_files_give_clear_errors(tmp_path, content, code):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    p = run("score", "--json", str(f), SEEDS[4])
    assert p.returncode == 1
    recs = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert recs[0]["error"]["code"] == code and recs[1]["verdict"] in {"ok", "suspect"}


def test_missing_file_is_an_error_not_a_crash(tmp_path):
    p = run("score", "--json", str(tmp_path / "nope.txt"))
    assert p.returncode == 1 and json.loads(p.stdout)["error"]["code"] == "io"
    assert b"Traceback" not in p.stderr


def test_usage_error_exit_2():
    assert run("score").returncode == 2
    assert run("frobnicate").returncode == 2


def test_score_jsonl_accepts_html_like_the_api():
    """The record contract of the API: ``html`` instead of ``text`` is scored on its visible
    text; a record with neither is refused with a reason, and the run goes on."""
    page = ("<html><head><title>t</title><script>var x = 1;</script></head><body>"
            "<h1>Councillors vote to close two libraries</h1>"
            "<p>Councillors in the town voted on Tuesday to close two libraries next spring, "
            "after months of consultation with residents.</p></body></html>")
    lines = [json.dumps({"id": "h", "html": page}), json.dumps({"id": "none"}),
             json.dumps({"id": "t", "text": "Councillors vote to close two libraries"})]
    p = run("score", "--jsonl", "-", stdin=("\n".join(lines) + "\n").encode())
    recs = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert [r["id"] for r in recs] == ["h", "none", "t"]
    assert "error" not in recs[0] and recs[0]["verdict"] in {"ok", "suspect", "farm"}
    assert recs[1]["error"]["code"] == "field" and "html" in recs[1]["error"]["reason"]
    assert "error" not in recs[2]
    assert p.returncode == 1  # one record was refused


def _one_line_error(p: subprocess.CompletedProcess) -> str:
    err = p.stderr.decode()
    assert p.returncode == 2, (p.returncode, err)
    assert b"Traceback" not in p.stderr and len(err.strip().splitlines()) == 1, err
    assert err.startswith("farmscore "), err
    return err


@pytest.mark.parametrize("argv,says", [
    (["score", "--jsonl", "{tmp}/missing.jsonl"], "missing.jsonl"),
    (["score", "--jsonl", "-", "-o", "{tmp}/no/such/dir/out.jsonl"], "out.jsonl"),
    (["score", "--index", "{tmp}/no-index", SEEDS[0]], "no-index"),
    (["queue", "export", "--db", "sqlite:///{tmp}/no/such/dir/q.db"], "database"),
    (["serve", "--port", "70000"], "port"),
    (["score", "--max-chars", "many", SEEDS[0]], "max-chars"),
])
def test_cli_errors_are_one_line_exit_2(tmp_path, argv, says):
    """What went wrong and what to do, on one line, exit status 2; never a traceback."""
    p = run(*[a.replace("{tmp}", str(tmp_path)) for a in argv], stdin=b"")
    assert says in _one_line_error(p)


def test_index_add_on_a_missing_input_leaves_no_index(tmp_path):
    p = run("index", "add", "--jsonl", str(tmp_path / "missing.jsonl"), "--index", str(tmp_path / "idx"))
    assert "missing.jsonl" in _one_line_error(p)
    assert not (tmp_path / "idx").exists()


def test_queue_import_of_a_missing_input_makes_no_database(tmp_path):
    p = run("queue", "import", "--jsonl", str(tmp_path / "missing.jsonl"),
            "--db", f"sqlite:///{tmp_path / 'q.db'}")
    assert "missing.jsonl" in _one_line_error(p)
    assert not (tmp_path / "q.db").exists()


@pytest.mark.parametrize("argv", [["--help"], ["schema", "--help"], ["index", "add", "--help"],
                                  ["queue", "export", "--help"], ["score", "--help"]])
def test_help_and_parsing_load_no_model_code(argv):
    """`farmscore --help` and the parsing of every command import neither the feature
    code (numba, the word tables) nor LightGBM / scikit-learn: those cost seconds and
    hundreds of MB that a command which does not score should not pay."""
    code = ("import sys\nfrom farmscore.cli import build_parser\n"
            f"try:\n    build_parser().parse_args({argv!r})\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('numba', 'lightgbm', 'sklearn', 'features.document', "
            "'scoring.score', 'sqlalchemy', 'uvicorn') if m in sys.modules)\n"
            "print('HEAVY', heavy, file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=REPO_ROOT, timeout=120)
    assert b"HEAVY []" in p.stderr, p.stderr.decode()[-500:]


def test_score_jsonl_progress_bar_and_rate_without_start_up(tmp_path):
    """A long JSONL input shows a tqdm bar on stderr (forced here: stderr is not a
    terminal) that knows the total, and the summary's pages/s leaves out start-up."""
    text = open(SEEDS[4], encoding="utf-8").read()
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": text}) + "\n" for i in range(120)))
    p = run("score", "--jsonl", str(src), "-o", str(tmp_path / "out.jsonl"), "--progress")
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert "120/120" in err and "pages" in err
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("farmscore: 120 records, 0 refused") and "start-up" in summary
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 120
