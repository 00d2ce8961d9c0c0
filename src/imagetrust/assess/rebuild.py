"""Why was this tag rebuilt: two builds of one tag, explained from evidence.

An official tag is rebuilt when its base image moves, when the library's ``GitCommit`` for the
tag changes (the Dockerfile or what it downloads changed), when the packages it installs get
updates, or for nothing a user would notice (same layers, new timestamps). Each cause is named
only when evidence shows it, and the explanation lists which evidence was available, so "no
source change" is never claimed when neither image recorded its source revision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from imagetrust.assess.base_image import BaseImageResult
from imagetrust.assess.diff import ConfigDiff, LayerDiff, PackageChange, PackageDiff
from imagetrust.image.model import Image
from imagetrust.oci import mediatypes as mt

CauseKind = Literal[
    "base-moved", "base-changed", "source-changed", "packages-changed", "metadata-only"
]
RebuildState = Literal["rebuilt", "identical", "unexplained"]
EvidenceName = Literal["base-image", "source-revision", "packages", "layers"]


@dataclass(frozen=True, slots=True)
class SourceRevision:
    """The source commit an image says it was built from (``org.opencontainers.image.revision``
    annotation or label)."""

    commit: str
    source: str | None = None
    where: str = "annotation"


def source_revision(image: Image) -> SourceRevision | None:
    annotations = image.annotations
    for where, values in (("annotation", annotations), ("label", image.config.labels)):
        commit = values.get(mt.ANN_REVISION)
        if commit and commit.strip():
            return SourceRevision(commit.strip(), values.get(mt.ANN_SOURCE), where)
    return None


@dataclass(frozen=True, slots=True)
class RebuildCause:
    kind: CauseKind
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RebuildEvidence:
    """One kind of evidence and whether both builds offered it."""

    name: EvidenceName
    available: bool
    note: str


@dataclass(frozen=True, slots=True)
class RebuildExplanation:
    tag: str
    state: RebuildState
    summary: str
    causes: tuple[RebuildCause, ...] = ()
    evidence: tuple[RebuildEvidence, ...] = ()


@dataclass(frozen=True, slots=True)
class RebuildInputs:
    """What the explanation reads: the two builds' bases, source revisions and differences."""

    tag: str
    config_before: str
    config_after: str
    packages: PackageDiff
    layers: LayerDiff
    config: ConfigDiff
    base_before: BaseImageResult | None = None
    base_after: BaseImageResult | None = None
    source_before: SourceRevision | None = None
    source_after: SourceRevision | None = None
    library_commit: str | None = None
    """The library's ``GitCommit`` for the tag and architecture now (None: not known)."""
    library_note: str | None = None
    """Why the library commit is unknown (no catalog, not an official image, …)."""


def explain_rebuild(inputs: RebuildInputs) -> RebuildExplanation:
    """Every cause the evidence shows, most fundamental first, and the evidence used."""
    evidence: list[RebuildEvidence] = []
    causes: list[RebuildCause] = []
    if inputs.config_before == inputs.config_after:
        return RebuildExplanation(
            inputs.tag, "identical",
            f"both are the same build of {inputs.tag} (config {_short(inputs.config_after)})",
            evidence=(RebuildEvidence("layers", True, "same image config digest"),),
        )
    base_cause, base_evidence = _base(inputs)
    evidence.append(base_evidence)
    if base_cause is not None:
        causes.append(base_cause)
    source_cause, source_evidence = _source(inputs)
    evidence.append(source_evidence)
    if source_cause is not None:
        causes.append(source_cause)
    packages = _own_packages(inputs.packages, attributed=base_cause is not None)
    evidence.append(RebuildEvidence(
        "packages", True,
        f"package inventories of both builds ({inputs.packages.unchanged} unchanged)",
    ))
    if packages.total:
        causes.append(_packages_cause(packages))
    layers = inputs.layers
    evidence.append(RebuildEvidence(
        "layers", True,
        f"{layers.shared} of {layers.layers_after} layers reused, first {layers.common_prefix} "
        "in common",
    ))
    if layers.same_layers and inputs.packages.total == 0:
        causes = [c for c in causes if c.kind != "packages-changed"]
        causes.append(_metadata_cause(inputs))
    if not causes:
        return RebuildExplanation(
            inputs.tag, "unexplained",
            f"{inputs.tag} was rebuilt with different layers, but no base, source or package "
            "change was seen: files outside any package database changed",
            evidence=tuple(evidence),
        )
    summary = "; ".join(c.summary for c in causes)
    return RebuildExplanation(
        inputs.tag, "rebuilt", f"{inputs.tag} was rebuilt: {summary}", tuple(causes),
        tuple(evidence),
    )


def _base(inputs: RebuildInputs) -> tuple[RebuildCause | None, RebuildEvidence]:
    a, b = inputs.base_before, inputs.base_after
    if a is None or b is None or a.state != "detected" or b.state != "detected":
        why = "; ".join(
            f"{label}: {r.reason if r is not None else 'not looked up'}"
            for label, r in (("A", a), ("B", b))
            if r is None or r.state != "detected"
        )
        return None, RebuildEvidence("base-image", False, f"base not known for both ({why})")
    note = f"A on {_name(a)}, B on {_name(b)}"
    evidence = RebuildEvidence("base-image", True, note)
    changed = _base_packages(inputs.packages)
    if _repository(a) != _repository(b) or a.reference != b.reference:
        return RebuildCause(
            "base-changed", f"the base changed from {_name(a)} to {_name(b)}",
            {"before": a.reference, "after": b.reference, "digest_before": a.digest,
             "digest_after": b.digest, "packages": changed},
        ), evidence
    if a.digest and b.digest and a.digest != b.digest:
        what = _package_phrase(inputs.packages, base=True)
        return RebuildCause(
            "base-moved",
            f"the base {_familiar(b)} moved from {_short(a.digest)} to {_short(b.digest)}"
            f"{what}",
            {"base": b.reference, "digest_before": a.digest, "digest_after": b.digest,
             "packages": changed},
        ), evidence
    return None, evidence


def _source(inputs: RebuildInputs) -> tuple[RebuildCause | None, RebuildEvidence]:
    a, b, library = inputs.source_before, inputs.source_after, inputs.library_commit
    parts = [
        f"A records {_short_commit(a.commit)}" if a else "A records no source revision",
        f"B records {_short_commit(b.commit)}" if b else "B records no source revision",
        f"the library lists {_short_commit(library)} now" if library
        else (inputs.library_note or "the library's GitCommit is unknown"),
    ]
    evidence = RebuildEvidence("source-revision", bool(a and b), "; ".join(parts))
    if a is None or b is None or _same_commit(a.commit, b.commit):
        return None, evidence
    confirmed = library is not None and _same_commit(b.commit, library)
    tail = (
        ", which the official-images library lists for the tag now" if confirmed
        else f"; the library lists {_short_commit(library)} now" if library else ""
    )
    return RebuildCause(
        "source-changed",
        f"the library's GitCommit moved {_short_commit(a.commit)} → {_short_commit(b.commit)}"
        f"{tail}",
        {"before": a.commit, "after": b.commit, "library": library,
         "confirmed_by_library": confirmed},
    ), evidence


def _own_packages(diff: PackageDiff, *, attributed: bool) -> PackageDiff:
    """Package changes not explained by a base change (all of them when the base is unknown)."""
    return diff.without_base() if attributed else diff


def _packages_cause(diff: PackageDiff) -> RebuildCause:
    names = {kind: [_change(c) for c in group] for kind, group in diff.groups().items() if group}
    return RebuildCause(
        "packages-changed", f"packages changed in the image's own layers: {_package_list(diff)}",
        names,
    )


def _metadata_cause(inputs: RebuildInputs) -> RebuildCause:
    fields = []
    if inputs.config.created is not None:
        fields.append("created")
    if inputs.config.history_changed:
        fields.append("history")
    if inputs.config.runtime_changed:
        fields.append("runtime config")
    what = ", ".join(fields) or "config metadata"
    return RebuildCause(
        "metadata-only",
        f"only metadata differs ({what}): the layers are byte-for-byte the same",
        {"fields": fields, "created_before": inputs.config.created.before
         if inputs.config.created else None,
         "created_after": inputs.config.created.after if inputs.config.created else None},
    )


def _base_packages(diff: PackageDiff) -> dict[str, list[str]]:
    return {
        kind: [_change(c) for c in group if c.in_base]
        for kind, group in diff.groups().items()
        if any(c.in_base for c in group)
    }


def _package_phrase(diff: PackageDiff, *, base: bool) -> str:
    inside = diff.where(lambda change: change.in_base == base)
    if inside.total == 0:
        return ", with no package change in its layers"
    return f", which changed {_package_list(inside)}"


def _package_list(diff: PackageDiff, limit: int = 6) -> str:
    parts: list[str] = []
    for kind, group in diff.groups().items():
        if group:
            shown = ", ".join(_change(c) for c in group[:limit])
            more = f" and {len(group) - limit} more" if len(group) > limit else ""
            parts.append(f"{kind} {shown}{more}")
    return "; ".join(parts)


def _change(change: PackageChange) -> str:
    if change.before and change.after:
        return f"{change.name} {change.before} → {change.after}"
    return f"{change.name} {change.after or change.before}"


def _same_commit(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a == b or (min(len(a), len(b)) >= 7 and (a.startswith(b) or b.startswith(a)))


def _name(base: BaseImageResult) -> str:
    digest = f"@{_short(base.digest)}" if base.digest else ""
    return f"{_familiar(base)}{digest}"


def _familiar(base: BaseImageResult) -> str:
    ref = base.reference or "an unnamed base"
    return ref.removeprefix("docker.io/library/").removeprefix("docker.io/")


def _repository(base: BaseImageResult) -> str | None:
    return base.reference.rsplit(":", 1)[0] if base.reference else None


def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


def _short_commit(commit: str) -> str:
    return commit[:12]


__all__ = [
    "RebuildCause",
    "RebuildEvidence",
    "RebuildExplanation",
    "RebuildInputs",
    "SourceRevision",
    "explain_rebuild",
    "source_revision",
]
