"""Template headings of generated rewrites, and foreign-script leftovers."""

from __future__ import annotations

from features.document import Document
from features.foreign_script import ForeignScriptExtractor, word_kind
from features.template_headings import TemplateHeadingExtractor, normalise_heading

TPL = TemplateHeadingExtractor()
FS = ForeignScriptExtractor()


def test_seed_003_template_headings_found(seeds, seed_expectations):
    text = seeds["003"]
    out = TPL.extract(Document.from_text(text))
    found = {s.text for s in out.evidence}
    for h in seed_expectations["003"]["template_headings"]:
        assert h in found
    for s in out.evidence:
        assert text[s.start:s.end] == s.text


def test_seeds_without_template_frame_have_none(seeds):
    for k in ("000", "001", "002", "004"):
        assert TPL.extract(Document.from_text(seeds[k])).features["tpl_heading_count"] == 0


def test_other_template_frames_are_recognised():
    text = ("Ten tips for a better garden this spring\n\nKey Takeaways\n\n- Water early.\n\n"
            "Why It Matters\n\nGardens matter a lot to many people in the country.\n\n"
            "Final Thoughts\n\nStart small and grow.\n\nFrequently Asked Questions\n")
    out = TPL.extract(Document.from_text(text))
    assert out.features["tpl_heading_count"] == 4


def test_heading_normalisation():
    assert normalise_heading("  • Who Thinks What?") == "who thinks what"
    assert normalise_heading("What’s Next") == "what s next"


def test_seed_002_foreign_leftovers_found_whole(seeds, seed_expectations):
    text = seeds["002"]
    out = FS.extract(Document.from_text(text))
    found = {s.text for s in out.evidence}
    for name in seed_expectations["002"]["foreign_script"]:
        assert name in found
    assert all(text[s.start:s.end] == s.text for s in out.evidence)


def test_seeds_without_leftovers(seeds):
    for k in ("000", "001", "003", "004"):
        assert FS.extract(Document.from_text(seeds[k])).features["fs_foreign_runs"] == 0


def test_european_names_are_not_foreign_but_other_scripts_and_homoglyphs_are():
    assert word_kind("Zürich") == "" and word_kind("Łódź") == "" and word_kind("São") == ""
    assert word_kind("Газпром") == "foreign"
    assert word_kind("Trọng") == "foreign"
    assert word_kind("p\u0430ypal") == "mixed"  # Cyrillic a inside a Latin word
