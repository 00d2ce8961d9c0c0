"""What each policy rule checks: a condition on :class:`TrustFacts`, and the sentence people read.

The rules are code; *which* rules apply, at which level and with which settings is data: the
shipped default policy (``data/policy.toml``) and the organisation's own file
(:mod:`imagetrust.policy.policyfile`). Every rule answers ``pass``, ``fail`` or ``unknown``
(the facts it needs were not established: never a pass); only ``fail`` caps the verdict.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from imagetrust.policy.model import TrustFacts

Status = Literal["pass", "fail", "unknown"]
ATTESTATION_STATES = frozenset({"verified", "present", "missing", "mismatch", "not-expected",
                                "unknown"})
Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Check:
    status: Status
    reason: str


def _pass(reason: str) -> Check:
    return Check("pass", reason)


def _fail(reason: str) -> Check:
    return Check("fail", reason)


def _unknown(reason: str) -> Check:
    return Check("unknown", reason)


@dataclass(frozen=True, slots=True)
class RuleKind:
    """One rule: its settings (name → type of the default value) and its check."""

    name: str
    applies_when: str
    """For docs and ``policy show``: when the rule fails."""
    check: Callable[[TrustFacts, Params], Check]
    params: Mapping[str, type] = ()  # type: ignore[assignment]


def _behind(f: TrustFacts) -> str:
    return f"{f.days_behind} days behind" if f.days_behind is not None else "behind"


def _unestablished_critical(f: TrustFacts, p: Params) -> Check:
    if f.trusted_publisher:
        return _pass(f"the publisher is established ({f.publisher_tier})")
    if not f.vulnerabilities_scanned:
        return _unknown("vulnerabilities were not scanned")
    if f.fixable_critical > 0:
        return _fail(
            f"publisher is not established ({f.publisher_tier}) and "
            f"{f.fixable_critical} critical vulnerabilities have fixes available"
        )
    return _pass("no fixable critical vulnerability")


def _unestablished_kev(f: TrustFacts, p: Params) -> Check:
    if f.trusted_publisher:
        return _pass(f"the publisher is established ({f.publisher_tier})")
    if not f.vulnerabilities_scanned:
        return _unknown("vulnerabilities were not scanned")
    if f.kev > 0:
        return _fail(
            f"publisher is not established ({f.publisher_tier}) and "
            f"{f.kev} vulnerabilities are known to be exploited (CISA KEV)"
        )
    return _pass("no known-exploited vulnerability")


def _provenance_mismatch(f: TrustFacts, p: Params) -> Check:
    if f.attestations == "mismatch":
        return _fail("provenance does not match the commit the official-images library lists")
    if f.attestations == "verified":
        return _pass("provenance matches the commit the official-images library lists")
    return _unknown(f"no provenance to compare ({f.attestations})")


def _known_exploited(f: TrustFacts, p: Params) -> Check:
    if not f.vulnerabilities_scanned:
        return _unknown("vulnerabilities were not scanned")
    if f.kev > 0:  # for an unestablished publisher the publisher rule also fails, lower
        return _fail(f"{f.kev} vulnerabilities are known to be exploited (CISA KEV)")
    return _pass("no known-exploited vulnerability")


def _unsupported_tag(f: TrustFacts, p: Params) -> Check:
    if f.tag_status == "unsupported":
        return _fail(
            "the tag is no longer supported and will never be rebuilt: move to a supported tag"
        )
    if f.tag_status == "supported":
        return _pass("the tag is supported")
    return _unknown(f"tag support is {f.tag_status}")


def _end_of_life(f: TrustFacts, p: Params) -> Check:
    if f.end_of_life:
        return _fail("; ".join(f.end_of_life))
    if f.lifecycle_known:
        return _pass("the OS release and runtimes found are supported")
    return _unknown("no release lifecycle is known for this image's OS or runtimes")


def _behind_with_fixes(f: TrustFacts, p: Params) -> Check:
    if f.freshness == "behind" and (f.fixes_by_pulling or 0) > 0:
        return _fail(
            f"the image is {_behind(f)} its tag and pulling would fix "
            f"{f.fixes_by_pulling} vulnerabilities"
        )
    if f.freshness == "unknown":
        return _unknown("could not compare with what the tag points to now")
    if f.freshness == "behind" and f.fixes_by_pulling is None:
        return _unknown("behind its tag, and what pulling would fix was not computed")
    return _pass("pulling would fix nothing" if f.freshness == "behind" else "current")


def _past_grace(published: str | None, today: date, grace: int) -> bool:
    """A fix counts once ``grace`` days have passed since its advisory was published; with no
    date known it counts at once (the grace period can only shorten the wait, never hide)."""
    if grace <= 0 or not published:
        return True
    try:
        when = date.fromisoformat(published[:10])
    except ValueError:
        return True
    return when + timedelta(days=grace) <= today


def _fixable(f: TrustFacts, p: Params) -> Check:
    if not f.vulnerabilities_scanned:
        return _unknown("vulnerabilities were not scanned")
    severities = tuple(p.get("severities", ("critical", "high")))
    grace = int(p.get("grace-days", 0))
    if f.findings:
        counted = {
            s: sum(
                1 for x in f.findings
                if x.fixable and x.severity == s and _past_grace(x.published, f.today, grace)
            )
            for s in severities
        }
    else:  # facts built without the findings themselves
        counted = {s: {"critical": f.fixable_critical, "high": f.fixable_high}.get(s, 0)
                   for s in severities}
    if sum(counted.values()) == 0:
        return _pass(f"no fixable {'/'.join(severities)} vulnerability")
    if tuple(severities) == ("critical", "high"):
        text = (f"{counted['critical']} critical and {counted['high']} high vulnerabilities "
                "have fixes available")
    else:
        text = ", ".join(f"{n} {s}" for s, n in counted.items()) + " fixable vulnerabilities"
    if grace > 0:
        text += f" (published more than {grace} days ago)"
    return _fail(text)


def _behind_no_fixes(f: TrustFacts, p: Params) -> Check:
    if f.freshness == "behind" and not (f.fixes_by_pulling or 0) > 0:
        return _fail(f"the image is {_behind(f)} its tag (pull to stay current)")
    if f.freshness == "unknown":
        return _unknown("could not compare with what the tag points to now")
    return _pass("current" if f.freshness == "current" else "see behind-with-fixes")


def _freshness_unknown(f: TrustFacts, p: Params) -> Check:
    if f.freshness == "unknown":
        return _fail("could not compare with what the tag points to now")
    return _pass(f"freshness is {f.freshness}")


def _old_image(f: TrustFacts, p: Params) -> Check:
    limit = int(p.get("max-age-days", 180))
    if f.freshness != "unknown":
        return _pass("freshness was established, so age alone says nothing more")
    if f.age_days is None:
        return _unknown("the image records no creation date")
    if f.age_days > limit:
        return _fail(
            f"the image was created {f.age_days} days ago and whether it is still current "
            f"could not be established (more than {limit} days)"
        )
    return _pass(f"created {f.age_days} days ago")


def _base_behind(f: TrustFacts, p: Params) -> Check:
    if f.base_status in ("official-behind", "unsupported"):
        return _fail("the base image is behind or unsupported: rebuild on a current base")
    if f.base_status == "unknown":
        return _unknown("the base image could not be told")
    return _pass(f"base image: {f.base_status}")


def _not_scanned(f: TrustFacts, p: Params) -> Check:
    if not f.vulnerabilities_scanned:
        return _fail("vulnerabilities were not scanned")
    return _pass("vulnerabilities were scanned")


def _not_covered(f: TrustFacts, p: Params) -> Check:
    if not f.vulnerabilities_scanned:
        return _unknown("vulnerabilities were not scanned")
    if f.vulnerability_coverage == "none":
        return _fail(f"vulnerabilities could not be judged: {f.coverage_reason or 'no data'}")
    return _pass(f"coverage {f.vulnerability_coverage}")


def _partially_scanned(f: TrustFacts, p: Params) -> Check:
    if not f.vulnerabilities_scanned:
        return _unknown("vulnerabilities were not scanned")
    if f.vulnerability_coverage == "partial":
        return _fail(f"vulnerabilities were only partly scanned: {f.coverage_reason}")
    return _pass(f"coverage {f.vulnerability_coverage}")


def _no_attestations(f: TrustFacts, p: Params) -> Check:
    if f.attestations in ("missing", "unknown"):
        return _fail("no build attestations to verify provenance (missing, not failed)")
    if f.attestations == "not-expected":
        return _pass("this tag's builder records no provenance; none was expected")
    return _pass(f"attestations {f.attestations}")


def _epss(f: TrustFacts, p: Params) -> Check:
    threshold = float(p.get("threshold", 0.5))
    if not f.vulnerabilities_scanned:
        return _unknown("vulnerabilities were not scanned")
    likely = [x for x in f.findings if x.epss is not None and x.epss >= threshold]
    if likely:
        top = max(likely, key=lambda x: x.epss or 0.0)
        return _fail(
            f"{len(likely)} vulnerabilities have an EPSS score of {threshold} or more "
            f"(highest {top.id}: {top.epss:.2f})"
        )
    return _pass(f"no vulnerability with EPSS of {threshold} or more")


def _patterns(p: Params) -> tuple[str, ...]:
    return tuple(str(x) for x in p.get("patterns", ()))


def _approved_registries(f: TrustFacts, p: Params) -> Check:
    patterns = _patterns(p)
    if f.registry_reference is None:
        return _unknown("no registry name is known for this image")
    if any(fnmatch.fnmatchcase(f.registry_reference, pattern) for pattern in patterns):
        return _pass(f"{f.registry_reference} is from an approved registry")
    return _fail(
        f"{f.registry_reference} is not from an approved registry ({', '.join(patterns)})"
    )


def _approved_bases(f: TrustFacts, p: Params) -> Check:
    patterns = _patterns(p)
    if f.base_status == "none":
        return _pass("the image has no base image")
    if f.base_reference is None:
        return _unknown("the base image could not be told")
    if any(fnmatch.fnmatchcase(f.base_reference, pattern) for pattern in patterns):
        return _pass(f"base {f.base_reference} is approved")
    return _fail(f"base {f.base_reference} is not an approved base image ({', '.join(patterns)})")


def _max_days_behind(f: TrustFacts, p: Params) -> Check:
    days = int(p.get("days", 30))
    if f.freshness == "unknown":
        return _unknown("could not compare with what the tag points to now")
    if f.freshness == "behind" and (f.days_behind is None or f.days_behind > days):
        behind = f"{f.days_behind} days" if f.days_behind is not None else "an unknown time"
        return _fail(f"the image is {behind} behind its tag (at most {days} allowed)")
    return _pass("within the allowed days behind its tag")


def _non_root(f: TrustFacts, p: Params) -> Check:
    if f.user is None:
        return _unknown("the image's default user is not known")
    name = f.user.split(":", 1)[0].strip()
    if name in ("", "root", "0"):
        return _fail("the image runs as root by default (no USER, or USER root)")
    return _pass(f"the image runs as {f.user!r} by default")


def _required_attestations(f: TrustFacts, p: Params) -> Check:
    accept = tuple(str(x) for x in p.get("accept", ("verified", "present")))
    if f.attestations in accept:
        return _pass(f"attestations {f.attestations}")
    return _fail(f"build attestations are required ({' or '.join(accept)}); "
                 f"this image's are {f.attestations}")


def _denied_licenses(f: TrustFacts, p: Params) -> Check:
    denied = {str(x).lower() for x in p.get("licenses", ())}
    if f.licenses is None:
        return _unknown("the packages were not inventoried")
    found = sorted({x for x in f.licenses if x.lower() in denied})
    if found:
        return _fail(f"packages are licensed under denied licences: {', '.join(found)}")
    return _pass("no package under a denied licence")


def _max_image_age(f: TrustFacts, p: Params) -> Check:
    days = int(p.get("days", 365))
    if f.age_days is None:
        return _unknown("the image records no creation date")
    if f.age_days > days:
        return _fail(f"the image was created {f.age_days} days ago (at most {days} allowed)")
    return _pass(f"created {f.age_days} days ago")


def _unknown_publisher(f: TrustFacts, p: Params) -> Check:
    if f.trusted_publisher:
        return _pass(f"the publisher is established ({f.publisher_tier})")
    return _fail(f"the publisher is not established ({f.publisher_tier})")


_STR_LIST = list
KINDS: dict[str, RuleKind] = {
    k.name: k
    for k in (
        RuleKind("unestablished-publisher-critical",
                 "the publisher is not established and a critical vulnerability has a fix "
                 "available", _unestablished_critical),
        RuleKind("unestablished-publisher-kev",
                 "the publisher is not established and a finding is in CISA KEV",
                 _unestablished_kev),
        RuleKind("provenance-mismatch",
                 "attested provenance names a different commit than the official-images "
                 "library lists for the tag", _provenance_mismatch),
        RuleKind("known-exploited", "a finding is in CISA KEV (for an unestablished publisher "
                 "`unestablished-publisher-kev` also applies, lower)", _known_exploited),
        RuleKind("unsupported-tag",
                 "the tag is no longer listed in the official-images library (it will never be "
                 "rebuilt)", _unsupported_tag),
        RuleKind("end-of-life",
                 "the image's OS release or a runtime it ships is past its security support "
                 "(release-lifecycle data, with the date support ended)", _end_of_life),
        RuleKind("behind-with-fixes",
                 "the tag now points to a newer image, and pulling it would remove findings",
                 _behind_with_fixes),
        RuleKind("fixable-critical-high",
                 "critical or high findings (`severities`) have a fixed version available, "
                 "published more than `grace-days` ago", _fixable,
                 {"severities": _STR_LIST, "grace-days": int}),
        RuleKind("behind",
                 "the tag now points to a newer image, and pulling would remove no known finding",
                 _behind_no_fixes),
        RuleKind("freshness-unknown",
                 "the image could not be compared with what its tag points to now",
                 _freshness_unknown),
        RuleKind("old-image",
                 "freshness could not be established and the image was created more than "
                 "`max-age-days` ago", _old_image, {"max-age-days": int}),
        RuleKind("base-behind", "the base image is behind its tag or on an unsupported tag",
                 _base_behind),
        RuleKind("not-scanned", "vulnerabilities were not scanned", _not_scanned),
        RuleKind("not-covered",
                 "the scan ran but could judge no package: the database holds no data for the "
                 "image's OS release or ecosystems, or no package was found (zero findings are "
                 "not clean)", _not_covered),
        RuleKind("partially-scanned",
                 "some packages or files could not be judged (no feed for their release or "
                 "type, or a cataloger skipped a file); the reason names them",
                 _partially_scanned),
        RuleKind("no-attestations",
                 "there are no build attestations (reported as missing, not as failed); not "
                 "applied where the official-images library says the tag's builder records "
                 "none (`oci-import`, `classic`)", _no_attestations),
        RuleKind("epss", "a finding's EPSS score is at least `threshold`", _epss,
                 {"threshold": float}),
        RuleKind("approved-registries", "the image is not from a registry matching `patterns`",
                 _approved_registries, {"patterns": _STR_LIST}),
        RuleKind("approved-base-images", "the base image does not match `patterns`",
                 _approved_bases, {"patterns": _STR_LIST}),
        RuleKind("max-days-behind", "the image is more than `days` behind its tag",
                 _max_days_behind, {"days": int}),
        RuleKind("non-root-user", "the image runs as root by default", _non_root),
        RuleKind("required-attestations",
                 "the image's attestations are not one of `accept` (verified, present, …)",
                 _required_attestations, {"accept": _STR_LIST}),
        RuleKind("denied-licenses", "a package is licensed under one of `licenses`",
                 _denied_licenses, {"licenses": _STR_LIST}),
        RuleKind("max-image-age", "the image was created more than `days` ago", _max_image_age,
                 {"days": int}),
        RuleKind("unknown-publisher", "the publisher is not established", _unknown_publisher),
    )
}


__all__ = ["ATTESTATION_STATES", "KINDS", "Check", "RuleKind", "Status"]
