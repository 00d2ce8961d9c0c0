"""Freshness against a real registry acting as the docker.io mirror: the fixture base pushed as
debian:12 and then rebuilt over the same tag, so the first build is behind and the rebuild current.
Expected digests and dates come from the fixture layout files, not from the code under test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from imagetrust.api import open_image
from imagetrust.assess.evidence import Outcome
from imagetrust.assess.freshness import (
    FreshnessResult,
    assess_freshness,
    check_freshness,
    freshness_evidence,
)
from imagetrust.assess.model import VulnFinding, VulnSummary, pull_diff
from imagetrust.config import Settings, load_settings
from imagetrust.reference.parse import ImageReference, parse_reference
from imagetrust.source.registry import RegistryClient, RetryPolicy
from tests.support.attest import skopeo_push
from tests.support.registry import RegistryServer, start_registry

pytestmark = [pytest.mark.registry, pytest.mark.fixtures]


@dataclass(frozen=True)
class World:
    registry: RegistryServer
    images: Any


@pytest.fixture(scope="module")
def world(images: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = start_registry(tmp_path_factory.mktemp("freshness-registry"))
    skopeo_push(images.layout, "base", server, "library/debian:12")
    skopeo_push(images.layout, "base-rebuild", server, "library/debian:12")
    skopeo_push(images.layout, "multiarch", server, "someorg/multi:1", all_platforms=True)
    yield World(server, images)
    server.stop()


def _settings(world: World) -> Settings:
    return load_settings().with_overrides(
        registry_mirrors={"docker.io": (world.registry.url,)}, offline=True
    )


def _created(config: dict[str, Any]) -> datetime:
    text = str(config["created"])  # 2026-11-27T00:12:14.277142999Z: keep microseconds
    head, _, frac = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{frac[:6].ljust(6, '0')}+00:00")


def _check(world: World, target: str, ref: str | None, **kw: Any) -> FreshnessResult:
    settings = _settings(world)
    with open_image(target, settings=settings) as opened, RegistryClient(settings) as client:
        tag_ref = parse_reference(ref) if ref else None
        return check_freshness(opened.image, tag_ref, client, **kw)


def test_old_build_from_layout_is_behind(world: World) -> None:
    fx = world.images
    result = _check(world, f"oci-dir:{fx.layout}:base", "debian:12")
    assert result.state == "behind"
    assert result.compared == "config"
    assert result.current_digest == fx.manifest_digest("base-rebuild")
    assert result.current is not None
    assert result.current.config.digest == fx.manifest("base-rebuild")["config"]["digest"]
    expected_days = (_created(fx.config("base-rebuild")) - _created(fx.config("base"))).days
    assert result.days_behind == max(0, expected_days)
    evidence = freshness_evidence(result)
    assert evidence.outcome is Outcome.WARN
    assert evidence.details["current_digest"] == fx.manifest_digest("base-rebuild")


def test_old_build_from_docker_archive_is_behind(world: World) -> None:
    # the archive records the tag debian:12 itself
    settings = _settings(world)
    with open_image(f"docker-archive:{world.images.base_archive}", settings=settings) as opened:
        assert "debian:12" in " ".join(opened.image.repo_tags)
    result = _check(world, f"docker-archive:{world.images.base_archive}", "debian:12")
    assert (result.state, result.compared) == ("behind", "config")


def test_old_build_pulled_by_digest_is_behind(world: World) -> None:
    old = world.images.manifest_digest("base")
    result = _check(world, f"debian:12@{old}", f"debian:12@{old}")
    assert result.state == "behind"
    assert result.compared == "manifest"
    assert result.scanned_digest == old
    assert result.current_digest == world.images.manifest_digest("base-rebuild")


def test_rebuild_is_current_with_head_only(world: World) -> None:
    settings = _settings(world)
    sent: list[httpx.Request] = []
    with (
        open_image("debian:12", settings=settings) as opened,
        RegistryClient(settings, event_hooks={"request": [sent.append]}) as client,
    ):
        result = check_freshness(opened.image, parse_reference("debian:12"), client)
    assert result.state == "current"
    assert result.compared == "manifest"
    assert result.scanned_digest == world.images.manifest_digest("base-rebuild")
    assert [(r.method, r.url.path) for r in sent] == [("HEAD", "/v2/library/debian/manifests/12")]


def test_image_from_an_index_compares_the_index_digest(world: World) -> None:
    result = _check(world, "someorg/multi:1", "someorg/multi:1")
    assert (result.state, result.compared) == ("current", "index")
    assert result.scanned_digest == world.images.manifest_digest("multiarch")  # the index
    # the same platform image read from the layout (no registry digest): config comparison
    layout = _check(world, f"oci-dir:{world.images.layout}:base", "someorg/multi:1")
    assert (layout.state, layout.compared) == ("current", "config")


def test_rebuild_from_layout_is_current_by_config(world: World) -> None:
    result = _check(world, f"oci-dir:{world.images.layout}:base-rebuild", "debian:12")
    assert (result.state, result.compared) == ("current", "config")
    assert freshness_evidence(result).outcome is Outcome.PASS


def test_offline_without_mirror_is_unknown(world: World) -> None:
    settings = load_settings().with_overrides(offline=True)
    with (
        open_image(f"oci-dir:{world.images.layout}:base", settings=settings) as opened,
        RegistryClient(settings) as client,
    ):
        evidence = assess_freshness(opened.image, parse_reference("debian:12"), client)
    assert evidence.outcome is Outcome.UNKNOWN
    assert "offline" in evidence.summary


def test_unreachable_registry_is_unknown(world: World) -> None:
    settings = load_settings().with_overrides(timeout=2.0)
    with open_image(f"oci-dir:{world.images.layout}:base", settings=settings) as opened:
        closed = ImageReference("127.0.0.1:9", "library/debian", "12")  # discard port: refused
        with RegistryClient(settings, retry=RetryPolicy(attempts=1)) as client:
            result = check_freshness(opened.image, closed, client)
    assert result.state == "unknown"
    assert "127.0.0.1:9" in result.reason


def test_digest_only_and_unknown_tag_are_unknown(world: World) -> None:
    old = world.images.manifest_digest("base")
    assert "pinned by digest" in _check(world, f"debian@{old}", f"debian@{old}").reason
    missing = _check(world, f"oci-dir:{world.images.layout}:base", "debian:no-such-tag")
    assert missing.state == "unknown" and "not found" in missing.reason
    assert _check(world, f"oci-dir:{world.images.layout}:base", None).state == "unknown"


def test_source_date_epoch_caveat_for_old_official_images(world: World) -> None:
    world.registry.push_image("library/debian", "old")  # config created 2024-01-01T00:00:00Z
    now = datetime(2024, 3, 1, tzinfo=UTC)
    official = _check(world, "debian:old", "debian:old", official=True, now=now)
    assert official.age_days == 60  # Jan 31 + Feb 29 (2024 is a leap year)
    assert official.caveat is not None and "SOURCE_DATE_EPOCH" in official.caveat
    assert "SOURCE_DATE_EPOCH" in freshness_evidence(official).summary
    community = _check(world, "debian:old", "debian:old", official=False, now=now)
    assert community.caveat is None
    recent = _check(world, "debian:12", "debian:12", official=True)
    assert recent.caveat is None  # built 2026: after the change


def test_pull_diff_is_a_set_difference_by_id_and_package() -> None:
    scanned = VulnSummary.of([
        VulnFinding("CVE-1", "openssl", "critical", "fixed"),
        VulnFinding("CVE-2", "zlib", "high", "fixed"),
        VulnFinding("CVE-3", "bash", "low", "not-fixed"),
        VulnFinding("CVE-3", "bash", "low", "not-fixed"),  # duplicate is counted once
    ])
    current = VulnSummary.of([
        VulnFinding("CVE-3", "bash", "low", "not-fixed"),
        VulnFinding("CVE-2", "libz", "high", "fixed"),  # same id, other package: new
        VulnFinding("CVE-9", "curl", "medium", "fixed"),
    ])
    diff = pull_diff(scanned, current, "sha256:" + "0" * 64)
    assert {f.key for f in diff.fixed} == {("CVE-1", "openssl"), ("CVE-2", "zlib")}
    assert {f.key for f in diff.introduced} == {("CVE-2", "libz"), ("CVE-9", "curl")}
    assert diff.fixed_by_severity == {"critical": 1, "high": 1}
    assert diff.to_json()["fixed_ids"] == ["CVE-1", "CVE-2"]
    assert len(scanned) == 3
