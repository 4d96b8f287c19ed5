"""Shared fixtures. Tests that need ../shared/data skip cleanly when it is absent."""

from __future__ import annotations

import json
import os

import pytest

from farmscore.config import data_dir, seeds_dir


@pytest.fixture(scope="session")
def shared_data():
    path = data_dir()
    if not path.exists():
        msg = f"shared data not found at {path} (set FARMSCORE_DATA)"
        if os.environ.get("CI"):
            pytest.fail(msg + "; CI always has it, so this is an error there")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def seeds() -> dict[str, str]:
    """Seed id ("000".."004") -> page text."""
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(seeds_dir().glob("0*.txt"))}


@pytest.fixture(scope="session")
def seed_expectations() -> dict:
    return json.loads((seeds_dir() / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def clean_originals(shared_data):
    from training.corpus import clean_originals as load

    return load(1000)


# ---- under CI, a skipped test is a failure --------------------------------------------------
# Tests skip on a developer's machine when a service, a browser or the shared data is absent;
# CI always has them, so there a skip means something is broken and the run must go red.
_SKIPPED: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):  # an xfail runs; a skip does not
        _SKIPPED.append(f"{report.nodeid}: {report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr}")


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI") and _SKIPPED:
        print(f"\nCI: {len(_SKIPPED)} test(s) skipped, which CI does not allow:")
        for s in _SKIPPED[:50]:
            print("  ", s)
        session.exitstatus = 1
