"""Who published an image, and how sure we are: the publisher tier of the trust assessment.

The answer comes from where the image lives, never from labels inside it (anyone can write those):
Docker Official Images are confirmed against the official-images ``library/`` catalog; registries
whose operator controls publishing come from the shipped ``publishers.toml``; other Docker Hub
namespaces are community unless Hub shows a Verified Publisher or Sponsored OSS badge. Anything else
is reported as private or unknown — an absence of evidence, not a judgement.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from imagetrust.assess.official.store import OfficialLibrary, official_name
from imagetrust.errors import UsageError
from imagetrust.reference.parse import ImageReference

if TYPE_CHECKING:
    from imagetrust.assess.hub import HubClient

Tier = Literal[
    "official",
    "verified-publisher",
    "sponsored-oss",
    "trusted-vendor",
    "community",
    "private",
    "unknown",
]
DataTier = Literal["official", "verified", "trusted-vendor"]
Evidence = Literal[
    "official-images-library",
    "reference-namespace",
    "publishers-data",
    "docker-hub-api",
    "none",
]
_DATA_TIERS: dict[str, Tier] = {
    "official": "official",
    "verified": "verified-publisher",
    "trusted-vendor": "trusted-vendor",
}
_PRIVATE_SUFFIXES = (".local", ".lan", ".internal", ".intranet", ".corp", ".home.arpa")
_DOI_ID = "docker-official-images"
_ECR_DOI_ID = "ecr-public-docker-official-images"


@dataclass(frozen=True, slots=True)
class PublisherPattern:
    registry: str
    repository: str
    """Shell-style glob; ``*`` also crosses ``/``."""

    def matches(self, ref: ImageReference) -> bool:
        return fnmatch.fnmatchcase(ref.registry.lower(), self.registry.lower()) and (
            fnmatch.fnmatchcase(ref.repository, self.repository)
        )


@dataclass(frozen=True, slots=True)
class Publisher:
    """One entry of ``publishers.toml``."""

    id: str
    name: str
    tier: DataTier
    patterns: tuple[PublisherPattern, ...]
    trust: str
    verify: tuple[str, ...]
    docs: str

    def matches(self, ref: ImageReference) -> bool:
        return any(p.matches(ref) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class PublisherInfo:
    """The publisher verdict for one reference, with the reason and how to check it yourself."""

    tier: Tier
    reason: str
    """One sentence a person can act on."""
    evidence: Evidence
    """What the tier rests on."""
    publisher_id: str | None = None
    publisher_name: str | None = None
    confirmed: bool = False
    """True when backed by the official-images catalog, the data file or Hub's badge."""
    how_to_verify: tuple[str, ...] = ()
    docs_url: str | None = None


def load_publishers(path: Path | None = None) -> tuple[Publisher, ...]:
    """Read a publishers file (default: the one shipped in ``imagetrust/data``)."""
    try:
        if path is None:
            text = resources.files("imagetrust").joinpath("data/publishers.toml").read_text("utf-8")
            where = "imagetrust/data/publishers.toml"
        else:
            text = path.read_text(encoding="utf-8")
            where = str(path)
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"cannot read publishers file: {error}") from error
    entries = data.get("publisher")
    if not isinstance(entries, list):
        raise UsageError(f"{where} has no [[publisher]] entries")
    publishers = tuple(_publisher(entry, where, index) for index, entry in enumerate(entries, 1))
    ids = [p.id for p in publishers]
    if len(set(ids)) != len(ids):
        raise UsageError(f"{where} repeats a publisher id", hint="every id must be unique")
    return publishers


def _publisher(entry: Any, where: str, index: int) -> Publisher:
    label = f"{where} publisher #{index}"
    if not isinstance(entry, dict):
        raise UsageError(f"{label} is not a table")
    for key in ("id", "name", "tier", "trust", "docs"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise UsageError(f"{label} needs a non-empty string {key!r}")
    if entry["tier"] not in _DATA_TIERS:
        raise UsageError(
            f"{label} has tier {entry['tier']!r}", hint="use official, verified or trusted-vendor"
        )
    patterns = []
    for item in entry.get("match") or []:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("registry"), str)
            and isinstance(item.get("repository"), str)
        ):
            raise UsageError(f"{label}: each match needs registry and repository strings")
        patterns.append(PublisherPattern(item["registry"], item["repository"]))
    if not patterns:
        raise UsageError(f"{label} has no match patterns")
    verify = entry.get("verify", [])
    if not isinstance(verify, list) or not all(isinstance(v, str) for v in verify):
        raise UsageError(f"{label}: verify must be a list of strings")
    return Publisher(
        id=entry["id"],
        name=entry["name"],
        tier=entry["tier"],
        patterns=tuple(patterns),
        trust=entry["trust"],
        verify=tuple(verify),
        docs=entry["docs"],
    )


def classify_publisher(
    ref: ImageReference,
    official_library: OfficialLibrary | None,
    hub_client: HubClient | None = None,
    *,
    publishers: tuple[Publisher, ...] | None = None,
) -> PublisherInfo:
    """Classify ``ref``'s publisher; ``catalog`` None means the official catalog is not loaded."""
    known = load_publishers() if publishers is None else publishers
    doi_name = official_name(ref)
    if doi_name is not None:
        return _official(ref, doi_name, official_library, known)
    for publisher in known:
        if publisher.matches(ref):
            return _from_data(publisher, ref)
    if ref.is_docker_hub:
        return _hub_namespace(ref, hub_client)
    host = ref.registry
    if _is_private_host(host):
        return PublisherInfo(
            tier="private",
            reason=f"{ref.name} is on a private or local registry ({host}); its publisher is "
            "whoever runs that registry, which imagetrust cannot confirm",
            evidence="none",
        )
    return PublisherInfo(
        tier="unknown",
        reason=f"{host} is not a registry imagetrust knows the publisher of; the image is "
        f"published by whoever controls {ref.repository.split('/')[0]!r} there (unknown, not bad)",
        evidence="none",
    )


def _official(
    ref: ImageReference,
    name: str,
    official_library: OfficialLibrary | None,
    known: tuple[Publisher, ...],
) -> PublisherInfo:
    wanted = _ECR_DOI_ID if ref.registry != "docker.io" else _DOI_ID
    publisher = next((p for p in known if p.id == wanted), None)
    mirror = " (Amazon ECR Public mirror)" if wanted == _ECR_DOI_ID else ""
    evidence: Evidence = "reference-namespace"
    confirmed = False
    if official_library is None:
        reason = (
            f"{ref.name} is in the Docker Official Images namespace{mirror}, not confirmed "
            "against the official-images library because no catalog is loaded; run "
            "`imagetrust catalog update`"
        )
    else:
        at = f" at {official_library.meta.commit[:12]}" if official_library.meta.commit else ""
        if official_library.lookup(name) is None:
            return PublisherInfo(
                tier="unknown",
                reason=(
                    f"{ref.name} is not a Docker Official Image: the official-images library"
                    f"{at} does not list {name!r}. Docker files every short name ({name}:TAG) "
                    "under library/, so the name alone proves nothing; no other evidence "
                    "(registry, publisher data, signature) establishes who published it. If it "
                    "once was an official image, it is deprecated and no longer updated"
                ),
                evidence="none",
            )
        else:
            evidence, confirmed = "official-images-library", True
            reason = (
                f"{name} is a Docker Official Image{mirror}: library/{name} is in the "
                f"official-images repository{at}, and Docker builds it from the commits listed"
            )
    return PublisherInfo(
        tier="official",
        reason=reason,
        evidence=evidence,
        publisher_id=wanted,
        publisher_name=publisher.name if publisher else "Docker Official Images",
        confirmed=confirmed,
        how_to_verify=_fill(publisher.verify if publisher else (), ref),
        docs_url=publisher.docs if publisher else None,
    )


def _from_data(publisher: Publisher, ref: ImageReference) -> PublisherInfo:
    return PublisherInfo(
        tier=_DATA_TIERS[publisher.tier],
        reason=f"{ref.name} is published by {publisher.name}: {publisher.trust}",
        evidence="publishers-data",
        publisher_id=publisher.id,
        publisher_name=publisher.name,
        confirmed=True,
        how_to_verify=_fill(publisher.verify, ref),
        docs_url=publisher.docs,
    )


_HUB_BADGES: dict[str, tuple[Tier, str]] = {
    "verified_publisher": (
        "verified-publisher",
        "Docker vetted who publishes in the {namespace!r} namespace",
    ),
    "open_source": ("sponsored-oss", "Docker sponsors this open-source project's namespace"),
}
"""Docker Hub badges that establish a publisher: badge → (tier, why, with ``{namespace}``)."""


def _hub_namespace(ref: ImageReference, hub: HubClient | None) -> PublisherInfo:
    namespace = ref.repository.split("/", 1)[0]
    community = (
        f"{ref.familiar.split(':')[0].split('@')[0]} is a Docker Hub community repository: "
        f"anyone can register the {namespace!r} namespace"
    )
    if hub is None:
        return PublisherInfo(
            tier="community",
            reason=f"{community}; its Verified Publisher / Sponsored OSS badge was not checked",
            evidence="reference-namespace",
        )
    badge = hub.badge(ref.repository)
    established = _HUB_BADGES.get(badge.badge)
    if established is not None:
        tier, why = established
        return PublisherInfo(
            tier=tier,
            reason=f"{badge.detail}: {why.format(namespace=namespace)}",
            evidence="docker-hub-api",
            publisher_id=f"docker-hub:{namespace}",
            publisher_name=badge.publisher or namespace,
            confirmed=True,
            docs_url="https://docs.docker.com/docker-hub/image-library/trusted-content/",
        )
    if badge.badge == "unknown":
        return PublisherInfo(
            tier="community",
            reason=f"{community}; {badge.detail}",
            evidence="reference-namespace",
        )
    return PublisherInfo(
        tier="community",
        reason=f"{community}, and {badge.detail[0].lower()}{badge.detail[1:]}",
        evidence="docker-hub-api",
        confirmed=True,
    )


def _fill(commands: tuple[str, ...], ref: ImageReference) -> tuple[str, ...]:
    """Fill the data file's placeholders: ``{ref}`` the reference, ``{name}`` its last component."""
    name = ref.repository.rsplit("/", 1)[-1]
    return tuple(c.replace("{ref}", str(ref)).replace("{name}", name) for c in commands)


def _is_private_host(registry: str) -> bool:
    host = registry
    if host.startswith("["):
        host = host[1 : host.find("]")]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.lower()
    if host == "localhost" or host.endswith(_PRIVATE_SUFFIXES) or "." not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local
