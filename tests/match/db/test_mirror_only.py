"""Feeds imagetrust cannot fetch upstream by itself are left out of a plain ``db update`` and
asked for by name only with a mirror; a scan that needs one says how to get it."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagetrust.errors import FeedError
from imagetrust.match.db.update import update_feeds
from imagetrust.match.feeds import FEEDS, MIRROR_ONLY, default_feeds


def test_plain_update_leaves_mirror_only_feeds_out_unless_a_mirror_serves_them() -> None:
    assert set(FEEDS) >= MIRROR_ONLY
    plain = default_feeds({})
    assert not MIRROR_ONLY & set(plain)
    assert set(plain) == set(FEEDS) - MIRROR_ONLY
    mirrored = default_feeds({"redhat-csaf": "https://mirror.example/redhat"})
    assert "redhat-csaf" in mirrored and "amazon-alas" not in mirrored


def test_asking_for_one_without_a_mirror_says_how(tmp_path: Path) -> None:
    db = tmp_path / "vuln.sqlite"
    with pytest.raises(FeedError) as caught:
        update_feeds(db, ["redhat-csaf"], base_urls={})
    assert "IMAGETRUST_FEED_URLS=redhat-csaf=" in (caught.value.hint or "")
    assert not db.exists()  # nothing downloaded, nothing written
