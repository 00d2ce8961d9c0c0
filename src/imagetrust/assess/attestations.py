"""Build attestations: BuildKit's in-toto statements in the index, and the DOI source cross-check.

BuildKit stores attestations as an extra manifest in the image index (platform unknown/unknown,
``vnd.docker.reference.type: attestation-manifest``, ``vnd.docker.reference.digest`` naming the
image manifest); each layer is an in-toto statement whose predicate is SLSA provenance or an SBOM.
For a Docker Official Image the provenance's source (git repository + commit) — or the image's
``org.opencontainers.image.revision`` — is compared with the ``GitCommit`` the official-images
library lists for that tag and architecture: agreement is the strongest link from the bytes to the
reviewed source. Missing attestations are reported as missing, never as a failure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from imagetrust.assess.evidence import Evidence, Outcome, Signal
from imagetrust.assess.official.library import bashbrew_arch
from imagetrust.assess.official.store import OfficialLibrary, official_name
from imagetrust.errors import ImagetrustError
from imagetrust.image.manifest import Manifest, parse_manifest
from imagetrust.image.model import Descriptor, Image
from imagetrust.oci import mediatypes as mt
from imagetrust.reference.parse import ImageReference
from imagetrust.source.interface import ImageSource

IN_TOTO_LAYER = "application/vnd.in-toto+json"
ANN_PREDICATE_TYPE = "in-toto.io/predicate-type"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"
SPDX = "https://spdx.dev/Document"
CYCLONEDX = "https://cyclonedx.org/bom"
BUILDKIT_METADATA = "https://mobyproject.org/buildkit@v1#metadata"
MAX_STATEMENT = 64 * 1024 * 1024
"""Larger statements are not read (an SBOM of a huge image is still far below this)."""

AttestationState = Literal["verified", "present", "missing", "mismatch", "not-expected", "unknown"]

NO_PROVENANCE_BUILDERS = frozenset({"oci-import", "classic"})
"""Official-images ``Builder`` values that record no BuildKit provenance: its absence is
expected for tags built so, and is no caveat."""
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_COMMIT_IN_URI = re.compile(r"#([0-9a-f]{40})(?::|$)")


@dataclass(frozen=True, slots=True)
class Material:
    """An input of the build: a base image (``pkg:docker/…``), a git checkout, a file."""

    uri: str
    digest: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Provenance:
    """The parts of a SLSA provenance predicate (v0.2 or v1) that assessment uses."""

    predicate_type: str
    builder_id: str | None
    build_type: str | None
    source_uri: str | None
    """Git repository the build context came from, without ``#ref``."""
    source_commit: str | None
    entry_point: str | None
    materials: tuple[Material, ...]
    started: str | None = None
    finished: str | None = None


@dataclass(frozen=True, slots=True)
class Sbom:
    format: Literal["spdx", "cyclonedx"]
    predicate_type: str
    packages: int


@dataclass(frozen=True, slots=True)
class Attestations:
    """What the index's attestation manifests contain for one image."""

    manifests: tuple[str, ...]
    provenance: tuple[Provenance, ...] = ()
    sboms: tuple[Sbom, ...] = ()
    other: tuple[str, ...] = ()
    """Predicate types of statements that are neither provenance nor SBOM."""
    problems: tuple[str, ...] = ()
    """Statements that could not be read or do not name this image (one line each)."""


@dataclass(frozen=True, slots=True)
class AttestationResult:
    state: AttestationState
    reason: str
    attestations: Attestations
    expected_repo: str | None = None
    expected_commit: str | None = None
    found_repo: str | None = None
    found_commit: str | None = None
    found_in: str | None = None
    """Where the compared commit came from: ``provenance`` or ``revision label``."""


def read_attestations(source: ImageSource, image: Image) -> Attestations:
    """Parse every in-toto statement of ``image``'s attestation manifests (unreadable → problem)."""
    provenance: list[Provenance] = []
    sboms: list[Sbom] = []
    other: list[str] = []
    problems: list[str] = []
    for descriptor in image.attestations:
        try:
            manifest = parse_manifest(source.manifest(descriptor))
        except ImagetrustError as error:
            problems.append(f"attestation manifest {descriptor.digest}: {error}")
            continue
        if not isinstance(manifest, Manifest):
            problems.append(f"attestation manifest {descriptor.digest} is not a manifest")
            continue
        for layer in manifest.layers:
            if layer.media_type != IN_TOTO_LAYER:
                continue
            try:
                statement = _statement(source, layer, image)
            except _Unreadable as error:
                problems.append(f"statement {layer.digest}: {error}")
                continue
            predicate_type = str(statement.get("predicateType") or "")
            predicate = statement.get("predicate")
            if not isinstance(predicate, dict):
                problems.append(f"statement {layer.digest} has no predicate object")
                continue
            if predicate_type.startswith(SLSA_V02):
                provenance.append(parse_slsa_v02(predicate_type, predicate))
            elif predicate_type.startswith(SLSA_V1):
                provenance.append(parse_slsa_v1(predicate_type, predicate))
            elif predicate_type.startswith(SPDX):
                sboms.append(Sbom("spdx", predicate_type, _count(predicate.get("packages"))))
            elif predicate_type.startswith(CYCLONEDX):
                sboms.append(
                    Sbom("cyclonedx", predicate_type, _count(predicate.get("components")))
                )
            else:
                other.append(predicate_type or "(none)")
    return Attestations(
        manifests=tuple(d.digest for d in image.attestations),
        provenance=tuple(provenance),
        sboms=tuple(sboms),
        other=tuple(other),
        problems=tuple(problems),
    )


class _Unreadable(Exception):
    pass


def _statement(source: ImageSource, layer: Descriptor, image: Image) -> dict[str, Any]:
    if layer.size > MAX_STATEMENT:
        raise _Unreadable(f"larger than {MAX_STATEMENT} bytes, not read")
    try:
        value = json.loads(source.blob(layer))
    except ImagetrustError as error:
        raise _Unreadable(str(error)) from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Unreadable("not valid JSON") from None
    if not isinstance(value, dict) or not str(value.get("_type", "")).startswith(
        "https://in-toto.io/Statement"
    ):
        raise _Unreadable("not an in-toto statement")
    if image.digest and not _names_subject(value.get("subject"), image.digest):
        raise _Unreadable(f"its subject is not this image ({image.digest})")
    return value


def _names_subject(subjects: Any, digest: str) -> bool:
    algorithm, _, hexdigest = digest.partition(":")
    if not isinstance(subjects, list):
        return False
    return any(
        isinstance(s, dict) and isinstance(s.get("digest"), dict)
        and s["digest"].get(algorithm) == hexdigest
        for s in subjects
    )


def _count(items: Any) -> int:
    return len(items) if isinstance(items, list) else 0


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _materials(items: Any) -> tuple[Material, ...]:
    found = []
    for item in items if isinstance(items, list) else []:
        uri = _text(_obj(item).get("uri"))
        if uri is None:
            continue
        digest = {
            str(k): str(v) for k, v in _obj(_obj(item).get("digest")).items() if isinstance(v, str)
        }
        found.append(Material(uri, digest))
    return tuple(found)


def _source(
    config_source: Mapping[str, Any], vcs: Mapping[str, Any], materials: Sequence[Material]
) -> tuple[str | None, str | None]:
    """(repository, commit): configSource first, then BuildKit's vcs metadata, then materials."""
    uri = _text(config_source.get("uri"))
    commit = _text(_obj(config_source.get("digest")).get("sha1"))
    if commit is None and uri is not None:
        match = _COMMIT_IN_URI.search(uri)
        commit = match.group(1) if match else None
    repo = uri.split("#", 1)[0] if uri else None
    repo = repo or _text(vcs.get("source"))
    commit = commit or _text(vcs.get("revision"))
    if commit is None:
        for material in materials:
            sha1 = material.digest.get("sha1")
            if sha1 and _SHA1.match(sha1) and not material.uri.startswith("pkg:"):
                repo = repo or material.uri.split("#", 1)[0]
                commit = sha1
                break
    return repo, commit


def parse_slsa_v02(predicate_type: str, predicate: Mapping[str, Any]) -> Provenance:
    """SLSA v0.2: ``invocation.configSource`` names the source, ``materials`` the inputs."""
    invocation = _obj(predicate.get("invocation"))
    config_source = _obj(invocation.get("configSource"))
    metadata = _obj(predicate.get("metadata"))
    vcs = _obj(_obj(metadata.get(BUILDKIT_METADATA)).get("vcs"))
    materials = _materials(predicate.get("materials"))
    repo, commit = _source(config_source, vcs, materials)
    return Provenance(
        predicate_type=predicate_type,
        builder_id=_text(_obj(predicate.get("builder")).get("id")),
        build_type=_text(predicate.get("buildType")),
        source_uri=repo,
        source_commit=commit,
        entry_point=_text(config_source.get("entryPoint")),
        materials=materials,
        started=_text(metadata.get("buildStartedOn")),
        finished=_text(metadata.get("buildFinishedOn")),
    )


def parse_slsa_v1(predicate_type: str, predicate: Mapping[str, Any]) -> Provenance:
    """SLSA v1: ``buildDefinition.externalParameters`` and ``resolvedDependencies``."""
    definition = _obj(predicate.get("buildDefinition"))
    external = _obj(definition.get("externalParameters"))
    config_source = _obj(external.get("configSource"))
    run = _obj(predicate.get("runDetails"))
    metadata = _obj(run.get("metadata"))
    vcs = _obj(_obj(metadata.get("buildkit_metadata")).get("vcs")) or _obj(
        _obj(metadata.get(BUILDKIT_METADATA)).get("vcs")
    )
    materials = _materials(definition.get("resolvedDependencies"))
    repo, commit = _source(config_source, vcs, materials)
    return Provenance(
        predicate_type=predicate_type,
        builder_id=_text(_obj(run.get("builder")).get("id")),
        build_type=_text(definition.get("buildType")),
        source_uri=repo,
        source_commit=commit,
        entry_point=_text(config_source.get("path")) or _text(config_source.get("entryPoint")),
        materials=materials,
        started=_text(metadata.get("startedOn")),
        finished=_text(metadata.get("finishedOn")),
    )


def assess_attestations(
    source: ImageSource,
    image: Image,
    ref: ImageReference | None,
    official_library: OfficialLibrary | None,
    *,
    image_behind: bool = False,
) -> AttestationResult:
    """Read the attestations and, for an official image, compare its source with the library.

    ``image_behind``: the image is an older build of its tag, so a commit older than the one the
    library lists now is expected and is not called a mismatch.
    """
    found = read_attestations(source, image)
    expected_repo, expected_commit = _expected(image, ref, official_library)
    builder = _builder(image, ref, official_library)
    claims = _claims(image, found)
    has_any = bool(found.provenance or found.sboms or found.other)
    if expected_commit is not None and claims:
        where, repo, commit = claims[0]
        bad = [
            (w, r, c) for w, r, c in claims
            if not _same_commit(c, expected_commit) or (r and not _same_repo(r, expected_repo))
        ]
        result = AttestationResult(
            "verified", "", found, expected_repo, expected_commit, repo, commit, where
        )
        if not bad:
            return _with(result, "verified", (
                f"built from {_repo_name(repo or expected_repo)} at {commit[:12]}, the commit the "
                f"official-images library lists (per {where})"
            ))
        where, repo, commit = bad[0]
        result = AttestationResult(
            "mismatch", "", found, expected_repo, expected_commit, repo, commit, where
        )
        claimed = f"{_repo_name(repo) + ' at ' if repo else ''}{commit[:12]}"
        listed = f"{_repo_name(expected_repo)} at {expected_commit[:12]}"
        if image_behind:
            return _with(result, "present", (
                f"the {where} names {claimed}, the library now lists {listed}; expected for an "
                "older build of the tag"
            ))
        return _with(result, "mismatch", (
            f"the {where} names {claimed}, but the official-images library lists {listed}"
        ))
    base = AttestationResult(
        "present", "", found, expected_repo, expected_commit,
        claims[0][1] if claims else None, claims[0][2] if claims else None,
        claims[0][0] if claims else None,
    )
    if has_any:
        kinds = _kinds(found)
        tail = ""
        doi = ref is not None and official_library is not None and official_name(ref)
        if doi and expected_commit:
            tail = "; no source commit in them to compare with the official-images library"
        return _with(base, "present", f"{kinds}{tail}")
    if builder in NO_PROVENANCE_BUILDERS and not found.problems:
        cross = (
            "; the source revision is cross-checked against the library's GitCommit where the "
            "image records one" if expected_commit else ""
        )
        return _with(base, "not-expected", (
            f"the official-images library builds this tag with the {builder!r} builder, which "
            f"records no BuildKit provenance: none is expected{cross}"
        ))
    if not image.attestations and image.index_digest is None and image.source_kind in (
        "docker-archive", "dir", "docker-daemon"
    ):
        return _with(base, "unknown", (
            f"a {image.source_kind} copy keeps no registry index, where attestations live; "
            "check the registry image"
        ))
    if found.problems:
        return _with(base, "missing", f"attestations could not be read: {found.problems[0]}")
    return _with(base, "missing", "the image has no build attestations (provenance or SBOM)")


def _with(result: AttestationResult, state: AttestationState, reason: str) -> AttestationResult:
    return replace(result, state=state, reason=reason)


def _expected(
    image: Image, ref: ImageReference | None, official_library: OfficialLibrary | None
) -> tuple[str | None, str | None]:
    if ref is None or ref.tag is None or official_library is None:
        return None, None
    if not official_library.is_official(ref):
        return None, None
    library = official_library.lookup(ref.repository)
    if library is None:
        return None, None
    arch = bashbrew_arch(image.platform)
    entry = library.entry_for_tag(ref.tag, arch)
    if entry is None or not entry.has_architecture(arch):
        return None, None
    return entry.value_for(arch, "GitRepo"), entry.git_commit_for(arch)


def _builder(
    image: Image, ref: ImageReference | None, official_library: OfficialLibrary | None
) -> str | None:
    """How the official-images library builds ``ref``'s tag (``buildkit``, ``oci-import``,
    ``classic``), None for anything else."""
    if ref is None or ref.tag is None or official_library is None:
        return None
    if not official_library.is_official(ref):
        return None
    library = official_library.lookup(ref.repository)
    entry = library.entry_for_tag(ref.tag, bashbrew_arch(image.platform)) if library else None
    return entry.builder if entry is not None else None


def _claims(image: Image, found: Attestations) -> list[tuple[str, str | None, str]]:
    """(where, repo, commit) the image claims to be built from: provenance first, then labels."""
    claims: list[tuple[str, str | None, str]] = [
        ("provenance", p.source_uri, p.source_commit)
        for p in found.provenance
        if p.source_commit
    ]
    revision = image.annotations.get(mt.ANN_REVISION) or image.config.labels.get(mt.ANN_REVISION)
    if revision:
        source = image.annotations.get(mt.ANN_SOURCE) or image.config.labels.get(mt.ANN_SOURCE)
        claims.append(("revision label", source, revision.strip()))
    return claims


def _same_commit(found: str, expected: str) -> bool:
    found = found.lower().strip()
    return len(found) >= 7 and expected.lower().startswith(found)


def normalise_repo(uri: str) -> str:
    """``https://github.com/O/R.git`` and ``git@github.com:o/r`` both become ``github.com/o/r``."""
    text = uri.strip().lower().split("#", 1)[0]
    text = re.sub(r"^[a-z+]+://", "", text)
    text = re.sub(r"^[^@/]+@", "", text)
    text = text.replace(":", "/", 1) if re.match(r"^[^/]+:[^0-9]", text) else text
    text = text.rstrip("/").removesuffix(".git")
    return text


def _same_repo(found: str, expected: str | None) -> bool:
    if expected is None:
        return True
    found_n, expected_n = normalise_repo(found), normalise_repo(expected)
    # org.opencontainers.image.source often adds a path inside the repository
    return found_n == expected_n or found_n.startswith(expected_n + "/")


def _repo_name(uri: str | None) -> str:
    if not uri:
        return "the source"
    return normalise_repo(uri).removeprefix("github.com/")


def _kinds(found: Attestations) -> str:
    parts = []
    if found.provenance:
        parts.append(f"{len(found.provenance)} provenance")
    parts.extend(f"{s.format} SBOM ({s.packages} packages)" for s in found.sboms)
    if found.other:
        parts.append(f"{len(found.other)} other")
    return "attestations present: " + ", ".join(parts)


def attestation_evidence(result: AttestationResult) -> Evidence:
    found = result.attestations
    outcome = {
        "verified": Outcome.PASS,
        "present": Outcome.PASS,
        "not-expected": Outcome.PASS,
        "mismatch": Outcome.FAIL,
    }.get(result.state, Outcome.UNKNOWN)
    details = {
        "state": result.state,
        "manifests": list(found.manifests),
        "provenance": [
            {
                "predicate_type": p.predicate_type,
                "builder_id": p.builder_id,
                "source": p.source_uri,
                "commit": p.source_commit,
                "entry_point": p.entry_point,
                "materials": [m.uri for m in p.materials],
            }
            for p in found.provenance
        ],
        "sboms": [
            {"format": s.format, "predicate_type": s.predicate_type, "packages": s.packages}
            for s in found.sboms
        ],
        "problems": list(found.problems),
        "expected_repo": result.expected_repo,
        "expected_commit": result.expected_commit,
        "found_repo": result.found_repo,
        "found_commit": result.found_commit,
        "found_in": result.found_in,
    }
    return Evidence(Signal.ATTESTATIONS, outcome, result.reason, details)
