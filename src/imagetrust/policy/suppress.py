"""Apply VEX statements and exceptions to a scan's findings: what stays, what is hidden and why.

Nothing is dropped silently: every hidden finding comes back as a :class:`Suppressed` naming the
statement (``FILE#INDEX``) or exception (``FILE:LINE``) that hid it; expired exceptions are
reported; a distro-status exception whose condition no longer holds (the distribution published
a fix, or changed its status) gives its finding back with the reason, as :class:`Ended`.

Rules, in order, for each finding:

1. VEX: statements naming the finding's id or any alias and a product matching its package
   (see :mod:`imagetrust.policy.purlmatch`). When several match, the last one in load order
   wins (files in the order given, statements in document order): a later ``affected``
   overrides an earlier ``not_affected``. ``not_affected`` and ``fixed`` hide the finding.
2. Exceptions, in file order, by id/alias and scope (image pattern, package, purl); expired ones
   never apply. A ``while-distro-status`` exception hides the finding only while its status is
   one of the listed words and no fix is published.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

from imagetrust.errors import ImagetrustError
from imagetrust.match.model import FIXED, Finding
from imagetrust.policy.exceptions import Exception_, load_exceptions
from imagetrust.policy.model import SuppressionInputs
from imagetrust.policy.purlmatch import in_vers_range, parse_purl, purl_matches
from imagetrust.policy.vex import VexProduct, VexStatement, load_vex
from imagetrust.reference import ImageReference, parse_target


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding hidden by a VEX statement or an exception, and what hid it."""

    finding: Finding
    by: str
    """The statement (``FILE#INDEX``) or exception (``FILE:LINE (ID)``)."""
    kind: Literal["vex", "exception"]
    status: str
    """VEX status (``not_affected``, ``fixed``) or ``accepted`` for an exception."""
    justification: str | None
    """VEX justification, or the exception's reason."""
    detail: str | None = None
    """VEX impact/action statement, or the exception's author and end."""


@dataclass(frozen=True, slots=True)
class Ended:
    """A distro-status exception that no longer applies to a finding, and why."""

    exception: Exception_
    finding: Finding
    reason: str


@dataclass(frozen=True, slots=True)
class SuppressionResult:
    kept: tuple[Finding, ...]
    suppressed: tuple[Suppressed, ...] = ()
    expired: tuple[Exception_, ...] = ()
    """Exceptions past their date: they hid nothing."""
    ended: tuple[Ended, ...] = ()


def expired_sentence(exception: Exception_) -> str:
    """What every output says of an exception past its date."""
    day = exception.expires.isoformat() if exception.expires else "?"
    return f"exception {exception.label} expired on {day} and no longer suppresses"


def ended_sentence(ended: Ended) -> str:
    """What every output says of a distro-status exception that stopped applying."""
    return f"{ended.finding.package.name} {ended.finding.id}: {ended.reason}"


def load_inputs(vex: Iterable[str | Path] = (),
                exceptions: str | Path | None = None) -> SuppressionInputs:
    """Load VEX files and an exceptions file (errors name the file) for :func:`suppress`."""
    statements: list[VexStatement] = []
    files: list[str] = []
    for path in vex:
        statements.extend(load_vex(path))
        files.append(str(path))
    loaded = load_exceptions(exceptions) if exceptions is not None else ()
    if exceptions is not None:
        files.append(str(exceptions))
    return SuppressionInputs(tuple(statements), loaded, tuple(files))


# ---- image names -------------------------------------------------------------------------

def image_names(image_ref: str | None, digest: str | None = None) -> tuple[str, ...]:
    """Every spelling an image pattern may be written against: as typed, normalised, familiar,
    without tag, and by digest."""
    if not image_ref:
        return ()
    names = [image_ref]
    try:
        target = parse_target(image_ref)
    except ImagetrustError:  # an unparsable reference is matched as typed only
        target = None
    if isinstance(target, ImageReference):
        names += [str(target), target.familiar, target.name]
        if digest:
            names.append(f"{target.name}@{digest}")
    return tuple(dict.fromkeys(names))


def _oci_matches(purl_text: str, image_ref: str | None, digest: str | None) -> bool:
    purl = parse_purl(purl_text)
    if purl is None:
        return False
    if purl.version and purl.version.startswith("sha256:") and purl.version != digest:
        return False
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    repo_url = qualifiers.get("repository_url")
    try:
        target = parse_target(image_ref) if image_ref else None
    except ImagetrustError:  # no repository to compare
        target = None
    if not isinstance(target, ImageReference):
        return bool(purl.version and digest and purl.version == digest)
    if repo_url:
        repo = repo_url.removeprefix("index.")
        try:
            wanted = parse_target(repo)
        except ImagetrustError:
            return False
        return isinstance(wanted, ImageReference) and wanted.name == target.name
    return target.repository.rsplit("/", 1)[-1] == purl.name


def _product_matches(product: VexProduct, finding: Finding, image_ref: str | None,
                     digest: str | None) -> bool:
    installed = finding.package.purl
    purl = parse_purl(product.purl)
    if purl is None or not installed:
        return False
    if purl.type == "oci":
        if not _oci_matches(product.purl, image_ref, digest):
            return False
        return not product.subcomponents or any(
            purl_matches(sub, installed) for sub in product.subcomponents)
    candidates = (product.purl, *product.subcomponents)
    if not any(purl_matches(c, installed) for c in candidates):
        return False
    if product.version_range is None:
        return True
    return in_vers_range(product.version_range, finding.package.type if purl.type == "generic"
                    else purl.type, finding.package.version)


def _vex_statement(finding: Finding, by_id: dict[str, list[tuple[int, VexStatement]]],
                   image_ref: str | None, digest: str | None) -> VexStatement | None:
    """The deciding statement (the last matching one in load order), if any."""
    candidates = {n: s for i in finding.ids for n, s in by_id.get(i.upper(), ())}
    for _, statement in sorted(candidates.items(), reverse=True):
        if any(_product_matches(p, finding, image_ref, digest) for p in statement.products):
            return statement
    return None


# ---- exceptions --------------------------------------------------------------------------

def distro_words(finding: Finding) -> frozenset[str]:
    """The :data:`~imagetrust.policy.exceptions.DISTRO_WORDS` that describe the finding now."""
    words = {finding.fix_state}
    text = (finding.distro_status or "").lower()
    if "no-dsa" in text:
        words.add("no-dsa")
    if "minor issue" in text:
        words.add("minor")
    for word in ("postponed", "ignored", "unimportant", "end-of-life"):
        if word in text:
            words.add(word)
    if text.startswith("open"):
        words.add("open")
    return frozenset(words)


def _distro_name(finding: Finding) -> str:
    if finding.source == "debian-tracker":
        return "Debian"
    if finding.source == "alpine-secdb":
        return "Alpine"
    eco = finding.ecosystem.split(":", 1)[0]
    return eco or "the distribution"


def _in_scope(exc: Exception_, finding: Finding, names: tuple[str, ...]) -> bool:
    if exc.id.upper() not in {i.upper() for i in finding.ids}:
        return False
    if exc.image is not None and not any(fnmatchcase(n, exc.image) for n in names):
        return False
    pkg = finding.package
    if exc.package is not None and exc.package not in (pkg.name, pkg.source_name):
        return False
    return exc.purl is None or purl_matches(exc.purl, pkg.purl or "")


def _ended_reason(exc: Exception_, finding: Finding) -> str | None:
    """Why a distro-status exception no longer holds for ``finding``; None while it holds."""
    if not exc.while_distro_status:
        return None
    distro = _distro_name(finding)
    tail = f"exception {exc.label} no longer applies"
    if finding.fix_state == FIXED:
        fix = f" ({finding.fixed_version})" if finding.fixed_version else ""
        return f"{distro} published a fix{fix}: {tail}"
    if distro_words(finding) & set(exc.while_distro_status):
        return None
    status = finding.distro_status or finding.fix_state
    return (f"{distro} status is now '{status}', not one of "
            f"{', '.join(exc.while_distro_status)}: {tail}")


def _exception_detail(exc: Exception_) -> str:
    ends = [f"expires {exc.expires.isoformat()}"] if exc.expires else []
    if exc.while_distro_status:
        ends.append(f"while distro status is {', '.join(exc.while_distro_status)}")
    return f"accepted by {exc.author}" + (f"; {'; '.join(ends)}" if ends else "")


# ---- the whole pass ----------------------------------------------------------------------

def suppress(
    findings: Sequence[Finding],
    *,
    image_ref: str | None,
    vex: Sequence[VexStatement] = (),
    exceptions: Sequence[Exception_] = (),
    now: datetime | None = None,
    image_digest: str | None = None,
) -> SuppressionResult:
    """Split ``findings`` into kept and suppressed (see the module docstring for the rules).

    ``now`` decides expiry (UTC now when None: tests inject it). ``image_ref`` is the reference
    as scanned; exception image patterns and OpenVEX ``pkg:oci`` products are matched against
    it (and ``image_digest``).
    """
    now = now or datetime.now(UTC)
    by_id: dict[str, list[tuple[int, VexStatement]]] = {}
    for position, statement in enumerate(vex):
        for ident in statement.ids:
            by_id.setdefault(ident.upper(), []).append((position, statement))
    expired = tuple(e for e in exceptions if e.expired(now))
    live = [e for e in exceptions if not e.expired(now)]
    names = image_names(image_ref, image_digest)
    kept: list[Finding] = []
    hidden: list[Suppressed] = []
    ended: list[Ended] = []
    for finding in findings:
        decided = _vex_statement(finding, by_id, image_ref, image_digest) if vex else None
        if decided is not None and decided.suppresses:
            hidden.append(Suppressed(
                finding, decided.label, "vex", decided.status, decided.justification,
                decided.impact_statement or decided.action_statement,
            ))
            continue
        accepted: Exception_ | None = None
        for exc in live:
            if not _in_scope(exc, finding, names):
                continue
            reason = _ended_reason(exc, finding)
            if reason is not None:
                ended.append(Ended(exc, finding, reason))
                continue
            accepted = exc
            break
        if accepted is not None:
            hidden.append(Suppressed(finding, accepted.label, "exception", "accepted",
                                     accepted.reason, _exception_detail(accepted)))
        else:
            kept.append(finding)
    return SuppressionResult(tuple(kept), tuple(hidden), expired, tuple(ended))


__all__ = [
    "Ended",
    "Suppressed",
    "SuppressionInputs",
    "SuppressionResult",
    "distro_words",
    "image_names",
    "load_inputs",
    "suppress",
]
