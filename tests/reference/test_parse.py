"""Reference grammar and normalisation, checked against Docker's documented behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagetrust.errors import ReferenceError_
from imagetrust.reference import ImageReference, LocalReference, parse_reference, parse_target

D = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres", "docker.io/library/postgres:latest"),
        ("postgres:16", "docker.io/library/postgres:16"),
        ("library/postgres:16", "docker.io/library/postgres:16"),
        ("bitnami/redis", "docker.io/bitnami/redis:latest"),
        ("index.docker.io/library/debian:12", "docker.io/library/debian:12"),
        ("registry-1.docker.io/foo/bar:1", "docker.io/foo/bar:1"),
        ("docker.io/debian", "docker.io/library/debian:latest"),
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/a/b:tag", "localhost:5000/a/b:tag"),
        ("127.0.0.1:5000/app:1.0", "127.0.0.1:5000/app:1.0"),
        (f"ghcr.io/org/app:1.2@{D}", f"ghcr.io/org/app:1.2@{D}"),
        (f"postgres@{D}", f"docker.io/library/postgres@{D}"),
        ("docker://alpine:3.19", "docker.io/library/alpine:3.19"),
        ("a.b-c.d/x-y_z.w/v--w__q:T_1.x-y", "a.b-c.d/x-y_z.w/v--w__q:T_1.x-y"),
    ],
)
def test_normalises_like_docker(text: str, expected: str) -> None:
    assert str(parse_reference(text)) == expected


def test_digest_only_reference_has_no_tag() -> None:
    ref = parse_reference(f"postgres@{D}")
    assert ref.tag is None and ref.digest == D and ref.manifest_ref == D


def test_familiar_form_and_official_namespace() -> None:
    ref = parse_reference("docker.io/library/postgres:16")
    assert ref.familiar == "postgres:16"
    assert ref.is_official_namespace
    assert not parse_reference("bitnami/postgresql").is_official_namespace
    assert parse_reference("ghcr.io/o/a:1").familiar == "ghcr.io/o/a:1"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Postgres:16", "must be lowercase"),
        ("docker.io/Library/postgres", "must be lowercase"),
        ("postgres:bad tag", "invalid tag"),
        ("postgres:-x", "invalid tag"),
        ("postgres@sha256:1234", "invalid digest"),
        ("http://registry/x", "no URL scheme"),
        ("", "empty image reference"),
        ("foo//bar", "bad repository path component"),
        ("a" * 256, "longer than 255"),
        (f"@{D}", "needs a repository name"),
    ],
)
def test_rejects_malformed_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(ReferenceError_) as info:
        parse_reference(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_uppercase_first_component_is_a_domain() -> None:
    # Docker treats an upper-case first component as a registry host, not a Hub namespace.
    ref = parse_reference("MyRegistry/app:1")
    assert ref.registry == "MyRegistry" and ref.repository == "app"


def test_transports(tmp_path: Path) -> None:
    archive = tmp_path / "img.tar"
    archive.write_bytes(b"")
    assert parse_target(f"docker-archive:{archive}:myapp:1.0") == LocalReference(
        "docker-archive", archive, "myapp:1.0"
    )
    assert parse_target(f"docker-archive:{archive}") == LocalReference(
        "docker-archive", archive, None
    )
    assert parse_target(f"oci-dir:{tmp_path}/layout:v1") == LocalReference(
        "oci-dir", tmp_path / "layout", "v1"
    )
    assert parse_target(f"oci:{tmp_path}/layout") == LocalReference(
        "oci-dir", tmp_path / "layout", None
    )
    assert parse_target(f"oci-archive:{tmp_path}/l.tar:app") == LocalReference(
        "oci-archive", tmp_path / "l.tar", "app"
    )
    assert parse_target("dir:/srv/rootfs") == LocalReference("dir", Path("/srv/rootfs"))
    assert parse_target("sbom:x.cdx.json") == LocalReference("sbom", Path("x.cdx.json"))
    assert isinstance(parse_target("postgres:16"), ImageReference)


def test_transport_without_path_is_an_error() -> None:
    with pytest.raises(ReferenceError_, match="needs a path"):
        parse_target("oci-dir:")
