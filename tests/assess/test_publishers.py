"""Publisher classification for representative references, and the shipped publishers data file.

MOCKED: only Docker Hub's web API (badges), served by a local http.server on 127.0.0.1 with
canned JSON shaped like Hub's search results — it cannot be reached from here. The official-images
catalog is the real library data imported from the shared test data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from imagetrust.assess.hub import HubClient
from imagetrust.assess.official.store import OfficialLibrary, import_library, load_library
from imagetrust.assess.publishers import classify_publisher, load_publishers
from imagetrust.errors import UsageError
from imagetrust.reference.parse import parse_reference
from tests.assess.httpserver import Server, serve
from tests.assess.test_hub import hub_search


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory, test_data: Path) -> OfficialLibrary:
    cache = tmp_path_factory.mktemp("official") / "cache"
    import_library(cache, test_data / "official-images")
    return load_library(cache)


@pytest.fixture
def hub() -> Iterator[Server]:
    with serve({"/api/search/v3/catalog/search": hub_search}) as server:
        yield server


# reference → (tier, publisher id or None, confirmed)
TABLE: dict[str, tuple[str, str | None, bool]] = {
    "postgres:16": ("official", "docker-official-images", True),
    "docker.io/library/nginx@sha256:" + "b" * 64: ("official", "docker-official-images", True),
    "public.ecr.aws/docker/library/nginx:latest": (
        "official", "ecr-public-docker-official-images", True),
    # not in the library: no longer presumed official (issue 12 — a short name lands in library/
    # for any image, so an unlisted one is unknown; it used to be "official, unconfirmed")
    "centos:7": ("unknown", None, False),
    "myapp:1.0": ("unknown", None, False),
    "dhi.io/python:3.13": ("trusted-vendor", "docker-hardened-images", True),
    "cgr.dev/chainguard/static:latest": ("trusted-vendor", "chainguard", True),
    "gcr.io/distroless/static-debian12:nonroot": ("trusted-vendor", "google-distroless", True),
    "registry.access.redhat.com/ubi9/ubi-minimal:9.4": ("trusted-vendor", "redhat", True),
    "registry.redhat.io/rhel9/postgresql-15": ("trusted-vendor", "redhat", True),
    "mcr.microsoft.com/dotnet/runtime:8.0": ("trusted-vendor", "microsoft-mcr", True),
    "bitnami/nginx:1.27": ("verified-publisher", "docker-hub:bitnami", True),
    "grafana/grafana:11.0.0": ("sponsored-oss", "docker-hub:grafana", True),
    "someuser/app:1": ("community", None, True),
    "gcr.io/someproject/app:1": ("unknown", None, False),
    "ghcr.io/org/app:1": ("unknown", None, False),
    "public.ecr.aws/someorg/app:1": ("unknown", None, False),
    "127.0.0.1:5000/library/postgres:16": ("private", None, False),
    "localhost:5000/app:1": ("private", None, False),
    "registry.lan/team/app:1": ("private", None, False),
    "10.0.0.5:5000/app:1": ("private", None, False),
    "myregistry:5000/app:1": ("private", None, False),
}


@pytest.mark.parametrize("text", sorted(TABLE))
def test_classification_table(
    text: str, catalog: OfficialLibrary, hub: Server, tmp_path: Path
) -> None:
    client = HubClient(tmp_path / "cache", base_url=hub.url)
    info = classify_publisher(parse_reference(text), catalog, client)
    tier, publisher_id, confirmed = TABLE[text]
    assert (info.tier, info.publisher_id, info.confirmed) == (tier, publisher_id, confirmed)
    assert info.reason and "\n" not in info.reason


def test_official_evidence_and_verification_commands(catalog: OfficialLibrary) -> None:
    info = classify_publisher(parse_reference("postgres:16"), catalog)
    assert info.evidence == "official-images-library"
    assert catalog.meta.commit is None or catalog.meta.commit[:12] in info.reason
    assert any("inspect docker.io/library/postgres:16 " in v for v in info.how_to_verify)
    assert any(v.endswith("official-images/blob/master/library/postgres")
               for v in info.how_to_verify)

    chainguard = classify_publisher(parse_reference("cgr.dev/chainguard/static"), catalog)
    assert chainguard.evidence == "publishers-data"
    assert any(v.startswith("cosign verify") and v.endswith(" cgr.dev/chainguard/static:latest")
               for v in chainguard.how_to_verify)
    distroless = classify_publisher(parse_reference("gcr.io/distroless/base:nonroot"), catalog)
    assert any("verify gcr.io/distroless/base:nonroot " in v for v in distroless.how_to_verify)
    mirror = classify_publisher(parse_reference("public.ecr.aws/docker/library/nginx:1"), catalog)
    assert any("docker://docker.io/library/nginx:TAG" in v for v in mirror.how_to_verify)


def test_without_catalog_official_namespace_is_unconfirmed() -> None:
    info = classify_publisher(parse_reference("postgres:16"), None)
    assert (info.tier, info.confirmed, info.evidence) == ("official", False, "reference-namespace")
    assert "imagetrust catalog update" in info.reason


def test_deprecated_official_image_says_so(catalog: OfficialLibrary) -> None:
    assert "centos" not in catalog.names()
    info = classify_publisher(parse_reference("centos:7"), catalog)
    assert "deprecated" in info.reason and "no longer" in info.reason


def test_hub_namespace_without_hub_or_offline_is_community_unconfirmed(
    tmp_path: Path, hub: Server
) -> None:
    ref = parse_reference("bitnami/nginx")
    no_client = classify_publisher(ref, None)
    assert (no_client.tier, no_client.confirmed) == ("community", False)
    assert "not checked" in no_client.reason

    offline = HubClient(tmp_path / "cache", base_url=hub.url, offline=True)
    info = classify_publisher(ref, None, offline)
    assert (info.tier, info.confirmed) == ("community", False)
    assert "could not be checked" in info.reason
    assert not hub.requests


def test_unknown_is_stated_as_unknown_not_bad(catalog: OfficialLibrary) -> None:
    info = classify_publisher(parse_reference("ghcr.io/org/app:1"), catalog)
    assert "unknown, not bad" in info.reason


def test_shipped_publishers_file_is_complete() -> None:
    publishers = load_publishers()
    ids = {p.id for p in publishers}
    assert {
        "docker-official-images",
        "ecr-public-docker-official-images",
        "docker-hardened-images",
        "chainguard",
        "google-distroless",
        "redhat",
        "microsoft-mcr",
    } <= ids
    for publisher in publishers:
        assert publisher.docs.startswith("https://"), publisher.id
        assert publisher.verify, publisher.id
        assert publisher.trust.endswith("."), publisher.id


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not toml [", "cannot read publishers file"),
        ("[other]\nx = 1\n", "no [[publisher]] entries"),
        ('[[publisher]]\nid = "a"\nname = "A"\ntier = "gold"\ntrust = "t"\ndocs = "d"\n'
         'match = [{ registry = "r", repository = "*" }]\n', "tier 'gold'"),
        ('[[publisher]]\nid = "a"\nname = "A"\ntier = "verified"\ntrust = "t"\ndocs = "d"\n',
         "no match patterns"),
    ],
)
def test_invalid_publishers_file(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "publishers.toml"
    path.write_text(content)
    with pytest.raises(UsageError) as caught:
        load_publishers(path)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_custom_publishers_file_is_used(tmp_path: Path) -> None:
    path = tmp_path / "publishers.toml"
    path.write_text(
        '[[publisher]]\nid = "acme"\nname = "ACME"\ntier = "verified"\ntrust = "Ours."\n'
        'docs = "https://acme.example"\nverify = ["cosign verify {ref}"]\n'
        'match = [{ registry = "reg.acme.example", repository = "*" }]\n'
    )
    info = classify_publisher(
        parse_reference("reg.acme.example/team/app:1"), None, publishers=load_publishers(path)
    )
    assert (info.tier, info.publisher_id) == ("verified-publisher", "acme")
    assert info.how_to_verify == ("cosign verify reg.acme.example/team/app:1",)
