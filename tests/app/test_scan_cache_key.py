"""The audit's scan cache is keyed by the database *and* the code that scanned: a changed
cataloger or matcher never serves a stale cached scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagetrust.app.audit import database_key
from imagetrust.catalog import registry
from imagetrust.cli.main import main
from imagetrust.match import matchers


@pytest.fixture
def db(test_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "vuln.sqlite"
    monkeypatch.setenv("IMAGETRUST_DB", str(path))
    tracker = test_data / "debian/osvdev-debian_security_tracker_mock.json"
    assert main(["db", "import", str(tracker)]) == 0
    return path


def test_key_follows_catalogers_and_matchers(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = database_key(db, offline=True)
    assert first is not None and first == database_key(db, offline=True)
    bumped = {**registry.CATALOGER_VERSIONS, "dpkg": registry.CATALOGER_VERSIONS["dpkg"] + 1}
    monkeypatch.setattr(registry, "CATALOGER_VERSIONS", bumped)
    after_cataloger = database_key(db, offline=True)
    assert after_cataloger not in (None, first)
    bumped = {**matchers.MATCHER_VERSIONS, "debian": matchers.MATCHER_VERSIONS["debian"] + 1}
    monkeypatch.setattr(matchers, "MATCHER_VERSIONS", bumped)
    assert database_key(db, offline=True) not in (None, first, after_cataloger)


def test_no_database_means_no_cached_scans(tmp_path: Path) -> None:
    assert database_key(tmp_path / "absent.sqlite", offline=True) is None
