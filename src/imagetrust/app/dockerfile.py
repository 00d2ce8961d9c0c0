"""``dockerfile check`` and ``dockerfile pin``: a Dockerfile's base images, judged and pinned.

``check`` runs the ``check`` use case on every external base (each distinct reference and
platform once) and adds the rules a Dockerfile owes its readers: pinned by digest, a supported
tag, no end-of-life release, not untrusted. ``pin`` asks the registry for each tag's digest with
``HEAD`` — the *index* digest for a multi-platform image, so every platform still builds — and
rewrites only the bytes of each reference (``postgres:16`` → ``postgres:16@sha256:…``, the tag
kept for people). The file is replaced atomically, or not at all.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from imagetrust.app.check import check_document
from imagetrust.app.runtime import Runtime, runtime_for
from imagetrust.app.scanning import database_scan
from imagetrust.assess.evidence import Evidence, Outcome, Signal
from imagetrust.assess.hub import HubClient
from imagetrust.atomic import write_atomic
from imagetrust.config import Settings
from imagetrust.errors import ImagetrustError, UsageError
from imagetrust.policy.model import Level
from imagetrust.reference.dockerfile import Dockerfile, FromLine, Span, parse_dockerfile
from imagetrust.reference.parse import ImageReference
from imagetrust.report.document import (
    CheckDocument,
    DockerfileBase,
    DockerfileCheckDocument,
    DockerfilePin,
    DockerfilePinDocument,
)

if TYPE_CHECKING:  # the registry client needs httpx: imported when pinning
    from imagetrust.source.registry.client import RegistryClient

RULES = ("unpinned", "unsupported-tag", "end-of-life", "untrusted", "unchecked")
"""The rules ``dockerfile check --exit-code`` fails on."""


def read_dockerfile(path: Path, settings: Settings) -> Dockerfile:
    """Parse ``path`` (one UsageError line when it cannot be read or parsed)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return parse_dockerfile(data, platform=settings.platform)
    except UsageError as error:
        raise UsageError(f"{path}: {error.message}", hint=error.hint) from None


# -- check --------------------------------------------------------------------------------------


def check_dockerfile(
    path: Path,
    *,
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    scan: bool = True,
) -> DockerfileCheckDocument:
    """Every external base of ``path`` judged like ``check`` (from the registry), with the
    Dockerfile rules each fails."""
    runtime = runtime_for(settings, runtime)
    dockerfile = read_dockerfile(path, runtime.settings)
    registry = replace(runtime.settings, source_mode="registry")  # what a build pulls
    judged = replace(runtime, settings=registry)
    judged.policy()  # a bad policy, VEX or exceptions file: one error, before any base is read
    judged.suppression()
    with judged.scope():
        library = judged.library()
    hub = HubClient.from_settings(registry)
    seen: dict[tuple[str, str], DockerfileBase] = {}
    bases: list[DockerfileBase] = []
    for line in dockerfile.external():
        assert line.reference is not None
        platform = line.platform_value or registry.platform
        key = (str(line.reference), str(platform))
        if key in seen:
            bases.append(replace(seen[key], line=line))
            continue
        try:
            document = check_document(
                line.reference, runtime=judged, official=library, hub_client=hub,
                scan=database_scan(judged) if scan else None, platform=platform,
            )
            base = _judged(line, document)
        except ImagetrustError as error:
            base = _unchecked(line, str(error))
        seen[key] = base
        bases.append(base)
    return DockerfileCheckDocument(str(path), dockerfile.froms, tuple(bases))


def _judged(line: FromLine, document: CheckDocument) -> DockerfileBase:
    result = document.result
    assessment = result.assessment
    evidence = {e.signal: e for e in assessment.evidence}
    level = result.verdict.level
    pinned = line.reference is not None and line.reference.digest is not None
    lifecycle = evidence.get(Signal.LIFECYCLE)
    failed: list[str] = []
    if not pinned:
        failed.append("unpinned")
    if assessment.tag_status == "unsupported":
        failed.append("unsupported-tag")
    if lifecycle is not None and lifecycle.outcome == Outcome.FAIL:
        failed.append("end-of-life")
    if level == Level.UNTRUSTED:
        failed.append("untrusted")
    return DockerfileBase(
        line=line,
        pinned=pinned,
        level=level,
        publisher=assessment.publisher_tier,
        supported_tag=assessment.tag_status,
        lifecycle=lifecycle.outcome.value if lifecycle is not None else None,
        freshness=assessment.freshness.state,
        summaries={str(e.signal): e.summary for e in assessment.evidence},
        reasons=result.verdict.reasons,
        recommendation=_recommend(line, failed, evidence.get(Signal.SUPPORTED_TAG),
                                  assessment.freshness.state),
        failed=tuple(failed),
    )


def _unchecked(line: FromLine, error: str) -> DockerfileBase:
    pinned = line.reference is not None and line.reference.digest is not None
    failed = ("unchecked",) if pinned else ("unpinned", "unchecked")
    return DockerfileBase(
        line=line, pinned=pinned, level=None, publisher=None, supported_tag=None,
        lifecycle=None, freshness=None, summaries={}, reasons=(),
        recommendation=f"could not be checked: {error}", failed=failed, error=error,
    )


def _recommend(
    line: FromLine, failed: list[str], supported: Evidence | None, freshness: str
) -> str:
    """One sentence: the most important thing to do about this base."""
    steps: list[str] = []
    suggestions = list((supported.details.get("suggestions") or []) if supported else [])
    if "unsupported-tag" in failed:
        move = f" such as {', '.join(suggestions)}" if suggestions else ""
        steps.append(f"move to a supported tag{move}")
    if "end-of-life" in failed:
        steps.append("move to a supported release (this one is past its end of life)")
    if "untrusted" in failed:
        steps.append("replace this base: its publisher or content is not trusted")
    if "unpinned" in failed:
        steps.append("pin it by digest (imagetrust dockerfile pin)")
    elif freshness == "behind":
        steps.append("refresh the pin (imagetrust dockerfile pin --update): the tag moved on")
    return "; ".join(steps) if steps else "keep it"


# -- pin ----------------------------------------------------------------------------------------


def pin_dockerfile(
    path: Path,
    *,
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    update: bool = False,
    dry_run: bool = False,
) -> DockerfilePinDocument:
    """Pin every external base of ``path`` by its tag's index digest (``update``: refresh
    existing pins too); ``dry_run`` only computes the diff."""
    runtime = runtime_for(settings, runtime)
    dockerfile = read_dockerfile(path, runtime.settings)
    from imagetrust.source.registry.client import RegistryClient

    pins: list[DockerfilePin] = []
    replacements: dict[Span, str] = {}
    digests: dict[str, str] = {}
    with runtime.scope(), RegistryClient(runtime.settings) as client:
        for line in dockerfile.external():
            pin = _pin_one(dockerfile, line, update, replacements, digests, client)
            pins.append(pin)
    data = dockerfile.rewrite(replacements)
    diff = _unified(path, dockerfile.data, data)
    written = False
    if not dry_run and data != dockerfile.data:
        _replace(path, data)
        written = True
    return DockerfilePinDocument(str(path), tuple(pins), diff, written, dry_run)


def _pin_one(
    dockerfile: Dockerfile,
    line: FromLine,
    update: bool,
    replacements: dict[Span, str],
    digests: dict[str, str],
    client: RegistryClient,
) -> DockerfilePin:
    reference = line.reference
    assert reference is not None
    shown = reference.familiar
    if line.span is None:
        return DockerfilePin(line.line, shown, line.written, line.written, "skipped",
                             note="the reference is split over a line continuation")
    before = dockerfile.text_at(line.span)
    if line.span in replacements:  # an ARG default several FROMs share: pinned once
        after = replacements[line.span]
        return DockerfilePin(line.line, shown, before, after, "shared",
                             via_arg=line.via_arg, note=f"pinned through ARG {line.via_arg}")
    if reference.tag is None:
        return DockerfilePin(line.line, shown, before, before, "kept", reference.digest,
                             line.via_arg, "pinned by digest without a tag: nothing to refresh")
    if reference.digest is not None and not update:
        return DockerfilePin(line.line, shown, before, before, "kept", reference.digest,
                             line.via_arg, "already pinned (--update refreshes it)")
    digest = _digest(reference, digests, client, line.line)
    text = _strip_digest(before) if reference.digest is not None else before
    after = f"{text}@{digest}"
    if after == before:
        return DockerfilePin(line.line, shown, before, before, "unchanged", digest,
                             line.via_arg)
    replacements[line.span] = after
    note = None
    if line.templated:
        note = ("the reference uses build arguments: the digest pins what they expand to by "
                "default, and wins over a different --build-arg")
    action = "updated" if reference.digest is not None else "pinned"
    return DockerfilePin(line.line, shown, before, after, action, digest, line.via_arg, note)


def _digest(
    reference: ImageReference, digests: dict[str, str], client: RegistryClient, line: int
) -> str:
    """The tag's top-level digest (the index for a multi-platform image), asked once."""
    tag = reference.with_digest(None)
    key = str(tag)
    if key not in digests:
        try:
            digests[key] = client.head_manifest(tag).digest
        except ImagetrustError as error:
            raise ImagetrustError(
                f"line {line}: cannot resolve {tag.familiar}: {error.message}",
                hint=error.hint or "nothing was written",
            ) from error
    return digests[key]


def _strip_digest(text: str) -> str:
    at = text.rfind("@")
    return text[:at] if at >= 0 else text


def _unified(path: Path, old: bytes, new: bytes) -> str:
    if old == new:
        return ""
    a, b = _text(old).splitlines(keepends=True), _text(new).splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, f"a/{path.name}", f"b/{path.name}"))


def _text(data: bytes) -> str:
    """UTF-8 when the file is (every Dockerfile in practice), else byte-for-byte Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _replace(path: Path, data: bytes) -> None:
    """Write atomically, keeping the file's permission bits."""
    target = path.resolve()  # a symlinked Dockerfile stays a symlink
    try:
        mode = target.stat().st_mode & 0o7777
        write_atomic(target, data)
        target.chmod(mode)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}",
                         hint="check the file's directory is writable; it is unchanged") from None


__all__ = ["RULES", "check_dockerfile", "pin_dockerfile", "read_dockerfile"]
