"""Base-image detection on the real fixture images in a registry acting as the docker.io mirror.

The app image was built FROM the fixture base; debian:12 was then rebuilt (new layer), so by its
annotations the app's base is official-but-behind. The same base is also pushed as
debian:bookworm, which lets the layer chain find it when the annotations are gone (schema 2 copy,
docker-archive). Layer facts come from the fixture layout files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagetrust.api import open_image
from imagetrust.assess.attestations import Material, Provenance
from imagetrust.assess.base_image import (
    base_evidence,
    base_materials,
    candidate_tags,
    detect_base,
    findings_share,
    split_by_base,
)
from imagetrust.assess.evidence import Outcome
from imagetrust.assess.model import VulnFinding, VulnSummary
from imagetrust.assess.official import OfficialLibrary, import_library, load_library
from imagetrust.catalog.model import Catalog, Location, OSInfo, Package
from imagetrust.config import Settings, load_settings
from imagetrust.source.registry import RegistryClient
from tests.support.attest import skopeo_push
from tests.support.registry import RegistryServer, start_registry

pytestmark = [pytest.mark.registry, pytest.mark.fixtures]

BOOKWORM = OSInfo("debian", "12", "bookworm", "Debian GNU/Linux 12 (bookworm)")


@dataclass(frozen=True)
class World:
    registry: RegistryServer
    images: Any
    catalog: OfficialLibrary


@pytest.fixture(scope="module")
def world(
    images: Any, test_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    server = start_registry(tmp_path_factory.mktemp("base-registry"))
    skopeo_push(images.layout, "base", server, "library/debian:12")
    skopeo_push(images.layout, "base-rebuild", server, "library/debian:12")
    skopeo_push(images.layout, "base", server, "library/debian:bookworm")
    skopeo_push(images.layout, "app", server, "someorg/myapp:1.0")
    skopeo_push(images.layout, "app", server, "someorg/myapp:1.0-v2s2", v2s2=True)
    where = tmp_path_factory.mktemp("catalog")
    import_library(where, test_data / "official-images")
    yield World(server, images, load_library(where))
    server.stop()


def _settings(world: World) -> Settings:
    return load_settings().with_overrides(
        registry_mirrors={"docker.io": (world.registry.url,)}, offline=True
    )


def _detect(world: World, target: str, **kw: Any) -> Any:
    settings = _settings(world)
    with open_image(target, settings=settings) as opened, RegistryClient(settings) as client:
        return detect_base(
            opened.image, client=client, official_library=world.catalog,
            cache_dir=settings.cache_dir, **kw,
        )


def test_annotations_name_an_official_base_that_is_behind(world: World) -> None:
    fx = world.images
    assert fx.manifest("app")["annotations"]["org.opencontainers.image.base.name"] == (
        "docker.io/library/debian:12"
    )
    result = _detect(world, "someorg/myapp:1.0", os_info=BOOKWORM)
    assert result.method == "annotation"
    assert result.reference == "docker.io/library/debian:12"
    assert result.digest == fx.manifest_digest("base")
    assert result.layer_count == len(fx.config("base")["rootfs"]["diff_ids"]) == 1
    assert (result.official, result.tag_state, result.freshness) == (True, "supported", "behind")
    assert result.current_digest == fx.manifest_digest("base-rebuild")
    assert result.status == "official-behind"
    evidence = base_evidence(result)
    assert evidence.outcome is Outcome.WARN
    assert "behind its tag" in evidence.summary


@pytest.mark.parametrize("form", ["registry-v2s2", "docker-archive"])
def test_layer_chain_finds_the_base_without_annotations(world: World, form: str) -> None:
    fx = world.images
    target = {
        "registry-v2s2": "someorg/myapp:1.0-v2s2",
        "docker-archive": f"docker-archive:{fx.app_archive}",
    }[form]
    with open_image(target, settings=_settings(world)) as opened:
        assert "org.opencontainers.image.base.name" not in opened.image.annotations
    result = _detect(world, target, os_info=BOOKWORM)
    assert result.method == "layers"
    assert result.reference == "docker.io/library/debian:bookworm"
    assert result.tags == ("bookworm",)  # debian:12 is the rebuild: no shared layer
    assert result.digest == fx.manifest_digest("base")
    assert result.layer_count == 1
    assert result.status == "official-current"
    assert base_evidence(result).outcome is Outcome.PASS


def test_layer_chain_reads_the_os_lazily_and_caches_candidates(world: World) -> None:
    settings = _settings(world)
    calls: list[int] = []
    sent: list[httpx.Request] = []

    def probe() -> OSInfo:
        calls.append(1)
        return BOOKWORM

    with open_image("someorg/myapp:1.0-v2s2", settings=settings) as opened:
        for _ in range(2):
            sent.clear()
            with RegistryClient(settings, event_hooks={"request": [sent.append]}) as client:
                result = detect_base(opened.image, client=client, official_library=world.catalog,
                                     os_info=probe, cache_dir=settings.cache_dir)
            assert result.method == "layers"
        # the second run resolved every candidate from the on-disk cache: HEAD requests only
        assert {r.method for r in sent} == {"HEAD"}
    assert len(calls) == 2
    annotated = _detect(world, "someorg/myapp:1.0", os_info=probe)
    assert annotated.method == "annotation" and len(calls) == 2  # not needed, not called


def test_unknown_base_for_a_synthetic_image(world: World) -> None:
    world.registry.push_image("someorg/synthetic", "1", files={"etc/os-release": b"ID=debian\n"})
    result = _detect(world, "someorg/synthetic:1", os_info=BOOKWORM)
    assert result.state == "unknown"
    assert result.status == "unknown"
    assert "older build" in result.reason
    assert base_evidence(result).outcome is Outcome.UNKNOWN
    no_os = _detect(world, "someorg/synthetic:1", os_info=None)
    assert no_os.state == "unknown" and "no OS" in no_os.reason


def test_provenance_materials_name_the_base(world: World) -> None:
    fx = world.images
    provenance = Provenance(
        "https://slsa.dev/provenance/v0.2", None, None, None, None, None,
        materials=(
            Material("pkg:docker/docker/dockerfile@1.7", {"sha256": "ee" * 32}),
            Material("pkg:docker/debian@12?platform=linux%2Famd64",
                     {"sha256": fx.manifest_digest("base").split(":")[1]}),
        ),
    )
    assert base_materials(provenance) == [("debian:12", fx.manifest_digest("base"))]
    from imagetrust.assess.attestations import Attestations

    found = Attestations(manifests=(), provenance=(provenance,))
    result = _detect(world, "someorg/myapp:1.0-v2s2", attestations=found, os_info=None)
    assert result.method == "provenance"
    assert result.reference == "docker.io/library/debian:12"
    assert result.layer_count == 1
    assert result.status == "official-behind"


def test_candidate_tags_follow_the_release(test_data: Path, world: World) -> None:
    library = world.catalog.lookup("debian")
    assert library is not None
    tags = candidate_tags(library.supported_tags(), BOOKWORM)
    assert tags[:2] == ["bookworm", "12"]
    assert set(tags) == {
        "bookworm", "bookworm-20260803", "12.15", "12", "bookworm-backports",
        "bookworm-slim", "bookworm-20260803-slim", "12.15-slim", "12-slim",
    }  # the bookworm entries of library/debian, read by hand


def _package(name: str, layer: int) -> Package:
    return Package(
        name, "1", "deb", f"pkg:deb/debian/{name}@1", "dpkg",
        (Location(f"var/lib/dpkg/info/{name}.list", layer, f"sha256:{layer}"),),
    )


def test_split_by_base_and_findings_share() -> None:
    catalog = Catalog(None, (
        _package("libc6", 0), _package("bash", 0), _package("jq", 1),
        Package("orphan", "1", "deb", "pkg:deb/debian/orphan@1", "dpkg", ()),
    ))
    base, own = split_by_base(catalog, 1)
    assert [p.name for p in base] == ["libc6", "bash"]
    assert [p.name for p in own] == ["jq", "orphan"]
    summary = VulnSummary.of([
        VulnFinding("CVE-1", "libc6", "high", "fixed"),
        VulnFinding("CVE-2", "bash", "low"),
        VulnFinding("CVE-3", "jq", "critical", "fixed"),
    ])
    assert findings_share(summary, catalog, 1) == {
        "findings_in_base": 2, "findings_in_own_layers": 1, "base_packages": 2, "own_packages": 2,
    }


def test_an_os_image_has_no_base(world: World) -> None:
    from imagetrust.reference.parse import parse_reference

    named = _detect(world, "debian:bookworm", os_info=BOOKWORM, ref=parse_reference("debian:12"))
    assert (named.state, named.status) == ("none", "none")
    # without its name, the layer chain finds a tag whose layers are exactly this image's
    unnamed = _detect(world, "debian:bookworm", os_info=BOOKWORM)
    assert unnamed.state == "none"
    assert unnamed.digest == world.images.manifest_digest("base")
    assert base_evidence(unnamed).outcome is Outcome.PASS
