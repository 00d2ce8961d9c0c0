"""``check`` end to end: real images in a real registry (the docker.io mirror), the real
official-images library, and a fake ``scan`` with canned findings (matching is tested elsewhere).
Each verdict path asserts the level and the rules that set it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from imagetrust.app.check import check_image
from imagetrust.assess.evidence import Outcome, Signal
from imagetrust.assess.model import VulnFinding
from imagetrust.assess.official import OfficialLibrary, import_library, load_library
from imagetrust.catalog.model import Catalog
from imagetrust.config import Settings, load_settings
from imagetrust.image.model import Image
from imagetrust.image.session import CopyRead
from imagetrust.policy.verdict import Level
from imagetrust.report.check import check_json, check_markdown, render_check
from imagetrust.report.document import CheckDocument
from imagetrust.source.interface import ImageSource
from tests.support.attest import library_commit, provenance_v02, push_attested, skopeo_push
from tests.support.registry import RegistryServer, start_registry

pytestmark = [pytest.mark.registry, pytest.mark.fixtures]

DEBIAN_REPO = "https://github.com/debuerreotype/docker-debian-artifacts.git"


@dataclass(frozen=True)
class World:
    registry: RegistryServer
    images: Any
    catalog: OfficialLibrary
    commit: str


@pytest.fixture(scope="module")
def world(
    images: Any, test_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    server = start_registry(tmp_path_factory.mktemp("check-registry"))
    skopeo_push(images.layout, "base", server, "library/debian:12")
    skopeo_push(images.layout, "base-rebuild", server, "library/debian:12")
    skopeo_push(images.layout, "base", server, "library/debian:12.1")  # not in the library
    skopeo_push(images.layout, "app", server, "someorg/myapp:1.0")
    where = tmp_path_factory.mktemp("catalog")
    import_library(where, test_data / "official-images")
    text = (test_data / "official-images" / "library" / "debian").read_text(encoding="utf-8")
    yield World(server, images, load_library(where), library_commit(text, "amd64"))
    server.stop()


def _settings(world: World) -> Settings:
    return load_settings().with_overrides(
        registry_mirrors={"docker.io": (world.registry.url,)}, offline=True
    )


class FakeScan:
    """Canned findings per config digest; records what it was asked to scan."""

    def __init__(self, by_config: dict[str, list[VulnFinding]]) -> None:
        self.by_config = by_config
        self.scanned: list[tuple[str, int]] = []

    def __call__(
        self, source: ImageSource, image: Image, catalog: Catalog
    ) -> Iterable[VulnFinding]:
        self.scanned.append((image.config.digest, len(catalog.packages)))
        return self.by_config.get(image.config.digest, [])


def _config(world: World, ref: str) -> str:
    digest: str = world.images.manifest(ref)["config"]["digest"]
    return digest


def test_stale_official_image_with_fixes_needs_attention(world: World) -> None:
    scan = FakeScan({
        _config(world, "base"): [
            VulnFinding("CVE-2026-0001", "libc6", "critical", "fixed"),
            VulnFinding("CVE-2026-0002", "openssl", "high", "fixed"),
        ],
        _config(world, "base-rebuild"): [VulnFinding("CVE-2026-0002", "openssl", "high", "fixed")],
    })
    result = check_image(
        f"oci-dir:{world.images.layout}:base", settings=_settings(world),
        official=world.catalog, scan=scan, tag="debian:12",
    )
    facts = result.facts
    assert (facts.publisher_tier, facts.tag_status, facts.freshness) == (
        "official", "supported", "behind"
    )
    assert facts.fixes_by_pulling == 1
    assert (facts.fixable_critical, facts.fixable_high, facts.kev) == (1, 1, 0)
    assert result.verdict.level is Level.NEEDS_ATTENTION
    assert set(result.verdict.rules) == {"behind-with-fixes", "fixable-critical-high"}
    assert any("pulling would fix 1 vulnerabilities" in r for r in result.verdict.reasons)
    # the scanned image and the tag's current image were both inventoried (88 dpkg packages+)
    assert [c for c, _ in scan.scanned] == [_config(world, "base"), _config(world, "base-rebuild")]
    assert all(n >= world.images.debootstrap_packages for _, n in scan.scanned)
    pull = result.assessment.pull
    assert pull is not None and [f.id for f in pull.fixed] == ["CVE-2026-0001"]
    assert pull.current_digest == world.images.manifest_digest("base-rebuild")


def test_current_official_image_not_scanned_is_trusted_with_caveats(world: World) -> None:
    result = check_image("debian:12", settings=_settings(world), official=world.catalog)
    assert result.facts.freshness == "current"
    assert result.verdict.level is Level.TRUSTED_WITH_CAVEATS
    # issue 12: debian is built with the oci-import builder, so no attestations are expected
    # and "no-attestations" no longer applies (it used to: {"not-scanned", "no-attestations"})
    assert set(result.verdict.rules) == {"not-scanned"}
    evidence = {e.signal: e for e in result.assessment.evidence}
    assert [e.signal for e in result.assessment.evidence] == list(Signal)
    assert evidence[Signal.PUBLISHER].outcome is Outcome.PASS
    assert evidence[Signal.SUPPORTED_TAG].outcome is Outcome.PASS
    assert evidence[Signal.VULNERABILITIES].summary == "not scanned"
    assert evidence[Signal.ATTESTATIONS].details["state"] == "not-expected"  # was "missing"
    assert evidence[Signal.BASE_IMAGE].details["status"] == "none"  # debian is FROM scratch


def test_unsupported_tag_needs_attention(world: World) -> None:
    library = world.catalog.lookup("debian")
    assert library is not None and "12.1" not in library.supported_tags()
    result = check_image("debian:12.1", settings=_settings(world), official=world.catalog)
    assert result.facts.tag_status == "unsupported"
    assert result.verdict.level is Level.NEEDS_ATTENTION
    assert result.verdict.rules == ("unsupported-tag",)
    supported = result.assessment.evidence_for(Signal.SUPPORTED_TAG)
    assert supported.outcome is Outcome.FAIL
    assert supported.details["suggestions"]


def test_community_image_with_kev_is_untrusted_and_base_share_is_reported(world: World) -> None:
    app_config = _config(world, "app")
    scan = FakeScan({app_config: [
        VulnFinding("CVE-2021-44228", "jq", "critical", "not-fixed", kev=True),
        VulnFinding("CVE-2026-0003", "libc6", "medium", "fixed"),
    ]})
    result = check_image(
        "someorg/myapp:1.0", settings=_settings(world), official=world.catalog, scan=scan
    )
    assert result.facts.publisher_tier == "community"
    assert result.verdict.level is Level.UNTRUSTED
    assert result.verdict.rules == ("unestablished-publisher-kev",)
    base = result.assessment.evidence_for(Signal.BASE_IMAGE)
    assert base.details["method"] == "annotation"
    assert base.details["status"] == "official-behind"
    # jq was installed by the app's own layer, libc6 came with debian
    assert (base.details["findings_in_base"], base.details["findings_in_own_layers"]) == (1, 1)
    assert result.facts.base_status == "official-behind"


def _push_attested(world: World, tag: str, commit: str) -> None:
    image = world.registry.push_image("library/debian", None, files={"etc/marker": tag.encode()})
    statement = provenance_v02(image.manifest.digest, repo=DEBIAN_REPO, commit=commit)
    push_attested(world.registry, "library/debian", tag, image, [statement])


def test_provenance_mismatch_is_untrusted(world: World) -> None:
    _push_attested(world, "bookworm", "f" * 40)
    result = check_image("debian:bookworm", settings=_settings(world), official=world.catalog)
    assert result.facts.attestations == "mismatch"
    assert result.verdict.level is Level.UNTRUSTED
    assert result.verdict.rules == ("provenance-mismatch",)


def test_verified_current_clean_official_image_is_trusted(world: World) -> None:
    _push_attested(world, "12.15", world.commit)
    scan = FakeScan({})
    result = check_image(
        "debian:12.15", settings=_settings(world), official=world.catalog, scan=scan
    )
    assert result.facts.attestations == "verified"
    assert result.facts.freshness == "current"
    assert result.facts.vulnerabilities_scanned
    assert result.verdict.level is Level.TRUSTED
    assert result.verdict.rules == ()
    assert result.assessment.evidence_for(Signal.VULNERABILITIES).outcome is Outcome.PASS


def test_offline_without_mirror_degrades_to_unknown_signals(world: World) -> None:
    settings = load_settings().with_overrides(offline=True)
    assessment = check_image(
        f"docker-archive:{world.images.base_archive}", settings=settings, official=world.catalog
    ).assessment
    fresh = assessment.evidence_for(Signal.FRESHNESS)
    assert fresh.outcome is Outcome.UNKNOWN and "offline" in fresh.summary
    assert assessment.publisher_tier == "official"  # from the archive's own tag debian:12
    assert "archive tag" in assessment.evidence_for(Signal.PUBLISHER).summary
    assert assessment.attestations.state == "not-expected"  # issue 12: oci-import; was unknown


def test_local_image_without_a_name_has_no_publisher(world: World, tmp_path: Path) -> None:
    result = check_image(
        f"oci-dir:{world.images.layout}:app", settings=_settings(world), official=tmp_path
    )
    assert result.facts.publisher_tier == "unknown"
    assert result.verdict.level is Level.UNKNOWN
    # the base is still found from the annotations, the catalog just is not loaded
    assert result.assessment.base.reference == "docker.io/library/debian:12"


def test_json_markdown_and_table(world: World) -> None:
    result = check_image("debian:12.1", settings=_settings(world), official=world.catalog)
    document = json.loads(json.dumps(check_json(result)))
    assert document["image"] == {
        "reference": "docker.io/library/debian:12.1",
        "digest": world.images.manifest_digest("base"),
        "index_digest": None,
        "config_digest": _config(world, "base"),
        "platform": "linux/amd64",
        "tag_reference": "docker.io/library/debian:12.1",
    }
    assert document["level"] == "needs-attention"
    assert document["reasons"] == list(result.verdict.reasons)
    assert [e["signal"] for e in document["evidence"]] == [s.value for s in Signal]
    assert {e["outcome"] for e in document["evidence"]} <= {"pass", "warn", "fail", "unknown"}
    shown = CheckDocument(result, CopyRead("registry", endpoint="docker.io"))
    markdown = check_markdown(shown)
    assert "| Supported tag | fail |" in markdown
    assert "**Trust level: needs attention**" in markdown
    buffer = io.StringIO()
    render_check(shown, Console(file=buffer, width=200, color_system=None))
    text = buffer.getvalue()
    for title in ("Publisher", "Supported tag", "Freshness", "Base image", "Vulnerabilities",
                  "Attestations", "Trust level: needs attention"):
        assert title in text
    assert result.verdict.reasons[0][:40] in text
