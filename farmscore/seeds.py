"""The five seed pages and the one source they are made from.

Seeds 001-004 are a spin, two rewrites and a paraphrase of one Reuters story; seed 000
pastes it twice. That story is not shipped as a file of its own: seed 000's first copy
(up to where the repeat starts, ``seeds/expected.json``) stands in for it, as in the
README's recipe. The demo indexes it so that its verdicts are those the seeds are
documented with (without a source, a paraphrase such as 004 reads as an original).
"""

from __future__ import annotations

import json

from farmscore.config import seeds_dir

SOURCE_ID = "reuters-original"
SOURCE_PUBLISHED = "2025-10-25"


def expected() -> dict:
    """``seeds/expected.json``: what farmscore must find on each seed."""
    return json.loads((seeds_dir() / "expected.json").read_text(encoding="utf-8"))


def seed_texts() -> dict[str, str]:
    """Seed number ("000") -> page text, in order."""
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(seeds_dir().glob("0*.txt"))}


def source_record() -> dict:
    """The index record of the seeds' source: seed 000 up to its second copy."""
    text = seed_texts()["000"]
    start = expected()["000"]["pasted_twice"]["second_copy_starts_with"]
    second = text.index(start, text.index(start) + 1)
    return {"id": SOURCE_ID, "text": text[:second].strip(), "published": SOURCE_PUBLISHED}
