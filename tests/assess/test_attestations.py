"""Attestations read from real attestation manifests pushed to a real registry, and the DOI
source cross-check against the official-images library (GitCommit read from the file by hand)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imagetrust.api import open_image
from imagetrust.assess.attestations import (
    AttestationResult,
    assess_attestations,
    attestation_evidence,
    normalise_repo,
    read_attestations,
)
from imagetrust.assess.evidence import Outcome
from imagetrust.assess.official import OfficialLibrary, import_library, load_library
from imagetrust.config import Settings, load_settings
from imagetrust.reference.parse import parse_reference
from tests.support.attest import (
    SLSA_V1,
    library_commit,
    provenance_v02,
    provenance_v1,
    push_attested,
    spdx_statement,
)
from tests.support.registry import RegistryServer, start_registry

pytestmark = pytest.mark.registry

DEBIAN_REPO = "https://github.com/debuerreotype/docker-debian-artifacts.git"
OTHER_COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    server = start_registry(tmp_path_factory.mktemp("attest-registry"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def catalog(test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> OfficialLibrary:
    where = tmp_path_factory.mktemp("official-catalog")
    import_library(where, test_data / "official-images")
    return load_library(where)


@pytest.fixture
def amd64_commit(test_data: Path) -> str:
    text = (test_data / "official-images" / "library" / "debian").read_text(encoding="utf-8")
    return library_commit(text, "amd64")


def _settings(registry: RegistryServer) -> Settings:
    return load_settings().with_overrides(
        registry_mirrors={"docker.io": (registry.url,)}, offline=True
    )


def _assess(
    registry: RegistryServer, name: str, catalog: OfficialLibrary | None, **kw: Any
) -> AttestationResult:
    with open_image(name, settings=_settings(registry)) as opened:
        ref = parse_reference(name)
        return assess_attestations(opened.source, opened.image, ref, catalog, **kw)


def _push(registry: RegistryServer, repo: str, tag: str, statements: Any, **kw: Any) -> str:
    image = registry.push_image(repo, None, files={"etc/marker": tag.encode()})
    built = [s(image.manifest.digest) for s in statements]
    return push_attested(registry, repo, tag, image, built, **kw).image_digest


def test_provenance_at_the_library_commit_is_verified(
    registry: RegistryServer, catalog: OfficialLibrary, amd64_commit: str
) -> None:
    assert amd64_commit == "b09f23ad7aab0cafa864c696dfbf130128e5e452"  # read by hand above
    _push(registry, "library/debian", "bookworm", [
        lambda d: provenance_v02(d, repo=DEBIAN_REPO, commit=amd64_commit),
        lambda d: spdx_statement(d, ["base-files", "bash", "dpkg"]),
    ])
    result = _assess(registry, "debian:bookworm", catalog)
    assert result.state == "verified"
    assert result.found_commit == amd64_commit == result.expected_commit
    assert result.found_in == "provenance"
    assert [s.packages for s in result.attestations.sboms] == [3]
    evidence = attestation_evidence(result)
    assert evidence.outcome is Outcome.PASS
    assert "debuerreotype/docker-debian-artifacts" in evidence.summary
    assert evidence.details["provenance"][0]["entry_point"] == "Dockerfile"


def test_other_commit_is_a_mismatch_unless_the_image_is_an_older_build(
    registry: RegistryServer, catalog: OfficialLibrary
) -> None:
    _push(registry, "library/debian", "12.15", [
        lambda d: provenance_v02(d, repo=DEBIAN_REPO, commit=OTHER_COMMIT),
    ])
    result = _assess(registry, "debian:12.15", catalog)
    assert result.state == "mismatch"
    assert result.found_commit == OTHER_COMMIT
    assert attestation_evidence(result).outcome is Outcome.FAIL
    assert OTHER_COMMIT[:12] in result.reason
    behind = _assess(registry, "debian:12.15", catalog, image_behind=True)
    assert behind.state == "present"


def test_right_commit_from_another_repository_is_a_mismatch(
    registry: RegistryServer, catalog: OfficialLibrary, amd64_commit: str
) -> None:
    _push(registry, "library/debian", "bookworm-20260803", [
        lambda d: provenance_v02(d, repo="https://github.com/evil/fork.git", commit=amd64_commit),
    ])
    assert _assess(registry, "debian:bookworm-20260803", catalog).state == "mismatch"


def test_slsa_v1_and_dependencies_are_parsed(
    registry: RegistryServer, catalog: OfficialLibrary, amd64_commit: str
) -> None:
    base = "sha256:" + "ab" * 32
    _push(registry, "library/debian", "12", [
        lambda d: provenance_v1(
            d, repo=DEBIAN_REPO, commit=amd64_commit,
            dependencies=[("pkg:docker/debian@bookworm?platform=linux%2Famd64", base)],
        ),
    ])
    result = _assess(registry, "debian:12", catalog)
    assert result.state == "verified"
    (provenance,) = result.attestations.provenance
    assert provenance.predicate_type == SLSA_V1
    assert provenance.builder_id == "https://example.test/builder"
    assert provenance.materials[0].uri.startswith("pkg:docker/debian@bookworm")
    assert provenance.materials[0].digest["sha256"] == "ab" * 32
    assert provenance.started == "2026-01-02T03:04:05Z"


def test_revision_annotation_alone_is_compared(
    registry: RegistryServer, catalog: OfficialLibrary, amd64_commit: str
) -> None:
    _push(registry, "library/debian", "12-slim", [],
          index_annotations={"org.opencontainers.image.revision": amd64_commit})
    result = _assess(registry, "debian:12-slim", catalog)
    assert (result.state, result.found_in) == ("verified", "revision label")


def test_no_attestations_is_missing_not_failed(
    registry: RegistryServer, catalog: OfficialLibrary
) -> None:
    # golang:trixie is built with BuildKit (library/golang `Builder: buildkit`): provenance is
    # expected, so its absence is "missing". (debian, built with oci-import, expects none.)
    assert _builder_of(catalog, "golang", "trixie") == "buildkit"
    registry.push_image("library/golang", "trixie")  # a plain manifest, no index
    result = _assess(registry, "golang:trixie", catalog)
    assert result.state == "missing"
    assert attestation_evidence(result).outcome is Outcome.UNKNOWN


def test_no_attestations_from_an_oci_import_builder_are_not_expected(
    registry: RegistryServer, catalog: OfficialLibrary
) -> None:
    """Issue 12: `oci-import` and `classic` builds carry no BuildKit provenance, so its absence
    is expected and no caveat (debian:bookworm-slim used to be "missing")."""
    assert _builder_of(catalog, "debian", "bookworm-slim") == "oci-import"
    registry.push_image("library/debian", "bookworm-slim")
    result = _assess(registry, "debian:bookworm-slim", catalog)
    assert result.state == "not-expected"
    assert "oci-import" in result.reason
    assert attestation_evidence(result).outcome is Outcome.PASS


def _builder_of(catalog: OfficialLibrary, name: str, tag: str) -> str | None:
    """Read the Builder the library file lists for ``tag`` (independently of the code): the
    entry's own, else the one in the file's header block."""
    text = (catalog.root / "library" / name).read_text()
    default = None
    for block in text.split("\n\n"):
        fields = {
            key.strip(): value.strip()
            for key, _, value in (line.partition(":") for line in block.splitlines())
            if not key.startswith((" ", "#")) and value
        }
        tags = [t.strip() for t in fields.get("Tags", "").split(",") if t.strip()]
        if not tags:
            default = fields.get("Builder", default)
        elif tag in tags:
            return fields.get("Builder", default)
    return None


def test_statement_about_another_image_is_not_used(
    registry: RegistryServer, catalog: OfficialLibrary, amd64_commit: str
) -> None:
    other = "sha256:" + "cd" * 32
    _push(registry, "library/debian", "12.15-slim", [
        lambda d: provenance_v02(other, repo=DEBIAN_REPO, commit=amd64_commit),
    ])
    result = _assess(registry, "debian:12.15-slim", catalog)
    assert result.state == "missing"
    assert result.attestations.provenance == ()
    assert "subject is not this image" in result.attestations.problems[0]


def test_non_official_image_with_provenance_is_present(
    registry: RegistryServer, catalog: OfficialLibrary
) -> None:
    digest = _push(registry, "someorg/app", "1", [
        lambda d: provenance_v02(d, repo="https://github.com/someorg/app.git", commit=OTHER_COMMIT),
    ])
    with open_image("someorg/app:1", settings=_settings(registry)) as opened:
        assert opened.image.digest == digest
        found = read_attestations(opened.source, opened.image)
        result = assess_attestations(
            opened.source, opened.image, parse_reference("someorg/app:1"), catalog
        )
    assert found.provenance[0].source_uri == "https://github.com/someorg/app.git"
    assert found.provenance[0].source_commit == OTHER_COMMIT
    assert result.state == "present"
    assert result.expected_commit is None


def test_docker_archive_cannot_tell(images: Any, catalog: OfficialLibrary) -> None:
    # judged as a BuildKit-built official tag: an archive keeps no index, so it cannot tell
    with open_image(f"docker-archive:{images.base_archive}") as opened:
        result = assess_attestations(
            opened.source, opened.image, parse_reference("golang:trixie"), catalog
        )
    assert result.state == "unknown"
    # judged as debian:12 (oci-import), nothing is expected in the first place (issue 12)
    with open_image(f"docker-archive:{images.base_archive}") as opened:
        result = assess_attestations(
            opened.source, opened.image, parse_reference("debian:12"), catalog
        )
    assert result.state == "not-expected"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://github.com/Docker-Library/Postgres.git", "github.com/docker-library/postgres"),
        ("git@github.com:docker-library/postgres.git", "github.com/docker-library/postgres"),
        ("https://github.com/docker-library/postgres.git#abc:16/bookworm",
         "github.com/docker-library/postgres"),
    ],
)
def test_repository_urls_normalise(uri: str, expected: str) -> None:
    assert normalise_repo(uri) == expected
