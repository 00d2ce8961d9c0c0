"""Docker/OCI reference grammar with Docker's normalisation, plus local transports.

Follows the grammar of the distribution project's ``reference`` package (written afresh here):
``[domain[:port]/]path[:tag][@digest]``, where the first path component is a domain only when it
contains ``.`` or ``:``, is ``localhost``, or has an upper-case letter. Docker Hub names gain the
``library/`` namespace, and ``index.docker.io`` / ``registry-1.docker.io`` fold into ``docker.io``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from imagetrust.errors import ReferenceError_

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_COMPONENT_RE = re.compile(rf"^{_COMPONENT}$")
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(
    rf"^(?:{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$"
)
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")
_MAX_NAME = 255

LocalTransport = Literal["docker-archive", "oci-dir", "oci-archive", "dir", "sbom", "docker-daemon"]
_TRANSPORT_ALIASES: dict[str, LocalTransport] = {
    "docker-archive": "docker-archive",
    "oci-dir": "oci-dir",
    "oci": "oci-dir",
    "oci-archive": "oci-archive",
    "dir": "dir",
    "sbom": "sbom",
    "docker-daemon": "docker-daemon",
}


@dataclass(frozen=True, slots=True)
class ImageReference:
    """An image in a registry, normalised (``docker.io/library/postgres:16``)."""

    registry: str
    """Registry host[:port]; Docker Hub is always ``docker.io``."""
    repository: str
    """Repository path, e.g. ``library/postgres``."""
    tag: str | None = None
    """Tag, or None for a digest-only reference."""
    digest: str | None = None
    """``sha256:…`` pin; when present it wins over the tag for pulls."""

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar(self) -> str:
        """The short form people type: ``postgres:16``, ``ghcr.io/org/app:1``."""
        repo = self.repository
        if self.is_docker_hub:
            repo = repo.removeprefix("library/")
            text = repo
        else:
            text = f"{self.registry}/{repo}"
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == DEFAULT_REGISTRY

    @property
    def is_official_namespace(self) -> bool:
        """``docker.io/library/*``: the namespace of Docker Official Images."""
        return self.is_docker_hub and self.repository.startswith("library/")

    @property
    def manifest_ref(self) -> str:
        """What to put after ``/manifests/``: the digest if pinned, else the tag."""
        if self.digest is not None:
            return self.digest
        return self.tag or DEFAULT_TAG

    def with_tag(self, tag: str | None) -> ImageReference:
        return replace(self, tag=tag)

    def with_digest(self, digest: str | None) -> ImageReference:
        return replace(self, digest=digest)


@dataclass(frozen=True, slots=True)
class LocalReference:
    """An image read without a registry: ``docker-archive:PATH``, ``oci-dir:PATH[:TAG]`` …"""

    transport: LocalTransport
    """Which reader: docker-archive, oci-dir, oci-archive, dir, sbom or docker-daemon."""
    path: Path
    """The archive, layout directory, root filesystem or SBOM file (unused for docker-daemon)."""
    selector: str | None = None
    """The tag / ``ref.name`` to pick inside an archive or layout, or the daemon image name."""

    def __str__(self) -> str:
        if self.transport == "docker-daemon":
            return f"docker-daemon:{self.selector}"
        text = f"{self.transport}:{self.path}"
        if self.selector:
            text += f":{self.selector}"
        return text


Target = ImageReference | LocalReference


def parse_reference(text: str) -> ImageReference:
    """Parse and normalise a registry reference, raising a one-line error when invalid."""
    original = text
    text = text.strip()
    if text.startswith("docker://"):
        text = text.removeprefix("docker://")
    if not text:
        raise ReferenceError_("empty image reference", hint="give a name such as postgres:16")
    shown = redact_reference(original)
    if shown != original:
        raise ReferenceError_(
            f"image reference {shown!r} holds credentials (user:password@): refused",
            hint="log in with `docker login` (imagetrust reads ~/.docker/config.json and "
            "credential helpers); never put a secret in a reference",
        )
    if "://" in text:
        raise ReferenceError_(
            f"invalid image reference {original!r}: a reference has no URL scheme",
            hint="write it as registry.example.com/repo:tag",
        )

    digest: str | None = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise ReferenceError_(
                f"invalid digest {digest!r} in {original!r}",
                hint="a digest is sha256: followed by 64 lower-case hex digits",
            )
        if not text:
            raise ReferenceError_(
                f"digest-only reference {original!r} needs a repository name",
                hint="write it as NAME@sha256:…",
            )

    tag: str | None = None
    # A tag follows the last ':' that comes after the last '/', so host:port/name stays intact.
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise ReferenceError_(
                f"invalid tag {tag!r} in {original!r}",
                hint="tags are up to 128 letters, digits, '_', '.' and '-', not starting with . or -",  # noqa: E501
            )

    registry, repository = _split_domain(text, original)
    if len(repository) > _MAX_NAME:
        raise ReferenceError_(f"repository name in {original!r} is longer than 255 characters")
    for component in repository.split("/"):
        if not _COMPONENT_RE.match(component):
            if component.lower() != component and _COMPONENT_RE.match(component.lower()):
                raise ReferenceError_(
                    f"invalid reference {original!r}: repository name must be lowercase",
                    hint=f"use {component.lower()!r}",
                )
            raise ReferenceError_(
                f"invalid reference {original!r}: bad repository path component {component!r}",
                hint="components use lower-case letters, digits and single separators . _ __ -",
            )
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return ImageReference(registry=registry, repository=repository, tag=tag, digest=digest)


def redact_reference(text: str) -> str:
    """``text`` with any ``user[:password]@`` before the host replaced by ``***@``.

    Userinfo is an ``@`` in the first path segment (after an optional ``scheme://``), unless that
    segment is ``name[:tag]@sha256:…``, the one place an ``@`` belongs in a reference.
    """
    scheme, sep, body = text.partition("://")
    if not sep:
        scheme, body = "", text
    else:
        scheme += sep
    head, slash, rest = body.partition("/")
    if "@" not in head:
        return text
    userinfo, _, host = head.rpartition("@")
    if not slash and host.startswith(("sha256:", "sha384:", "sha512:")) and "@" not in userinfo:
        return text  # name[:tag]@digest, the digest perhaps malformed (said later)
    return f"{scheme}***@{host}{slash}{rest}"


def _split_domain(name: str, original: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    is_domain = bool(sep) and (
        "." in first or ":" in first or first == "localhost" or first.lower() != first
    )
    if not is_domain:
        registry, repository = DEFAULT_REGISTRY, name
    else:
        if not _DOMAIN_RE.match(first):
            raise ReferenceError_(f"invalid registry host {first!r} in {original!r}")
        registry, repository = first, rest
        if registry in _HUB_ALIASES:
            registry = DEFAULT_REGISTRY
    if not repository:
        raise ReferenceError_(f"invalid reference {original!r}: missing repository name")
    if registry == DEFAULT_REGISTRY and "/" not in repository:
        repository = f"library/{repository}"
    return registry, repository


def parse_target(text: str) -> Target:
    """Parse a registry reference or a ``transport:PATH[:SELECTOR]`` local reference."""
    prefix, sep, rest = text.partition(":")
    transport = _TRANSPORT_ALIASES.get(prefix) if sep else None
    if transport is None:
        return parse_reference(text)
    if not rest:
        raise ReferenceError_(f"{prefix}: needs a path, e.g. {prefix}:./image.tar")
    if transport == "docker-daemon":
        return LocalReference(transport, Path(), parse_reference(rest).familiar)
    if transport in ("dir", "sbom"):
        return LocalReference(transport, Path(rest))
    path_text, selector = _split_path_selector(rest, transport)
    return LocalReference(transport, Path(path_text), selector or None)


def _split_path_selector(rest: str, transport: LocalTransport) -> tuple[str, str | None]:
    """Split ``PATH[:SELECTOR]`` where PATH may contain ':' and SELECTOR may too (name:tag)."""
    if Path(rest).exists() or ":" not in rest:
        return rest, None
    # The first prefix that names an existing file wins (docker-archive:x.tar:app:1.0).
    for match in re.finditer(":", rest):
        head = rest[: match.start()]
        if head and Path(head).exists():
            return head, rest[match.end() :] or None
    # Nothing exists yet (the reader will report it): a selector starts after the last '/'.
    slash = rest.rfind("/")
    if transport == "docker-archive":
        colon = rest.find(":", slash + 1)
    else:
        colon = rest.rfind(":")
        colon = colon if colon > slash else -1
    if colon <= 0:
        return rest, None
    return rest[:colon], rest[colon + 1 :] or None
