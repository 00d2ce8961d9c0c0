"""Distribution status words → imagetrust fix states (documented row by row in docs/fix-states.md).

Kept apart from the matchers because this is policy, not parsing: Debian says ``open`` with
``nodsa_reason: postponed``; a user wants to read ``deferred``. The distro's own words survive in
``distro_status`` so nothing is lost in translation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from imagetrust.match.model import DEFERRED, END_OF_LIFE, FIXED, NOT_FIXED, WONT_FIX

Compare = Callable[[str, str], int]


@dataclass(frozen=True, slots=True)
class FixVerdict:
    """``state`` None means "not a finding"; ``reason`` says why (for tests and debugging)."""

    state: str | None
    fixed_version: str | None
    distro_status: str
    reason: str


def debian_status_text(
    status: str, urgency: str | None, nodsa: str | None, nodsa_reason: str | None
) -> str:
    """The tracker's words, compact: ``open (urgency low; no-dsa: Minor issue; postponed)``."""
    parts = []
    if urgency:
        parts.append(f"urgency {urgency}")
    if nodsa:
        parts.append(f"no-dsa: {nodsa}")
    elif nodsa_reason:
        parts.append("no-dsa")
    if nodsa_reason:
        parts.append(nodsa_reason)
    return f"{status} ({'; '.join(parts)})" if parts else status


def debian_verdict(
    installed: str,
    status: str,
    fixed_version: str | None,
    urgency: str | None,
    nodsa: str | None,
    nodsa_reason: str | None,
    compare: Compare,
) -> FixVerdict:
    """Debian security tracker entry for one release → fix state for the installed source version.

    ``installed`` is the *source* package version (a binNMU ``+b1`` is not what the tracker fixed).
    """
    words = debian_status_text(status, urgency, nodsa, nodsa_reason)
    if status == "undetermined":
        return FixVerdict(None, None, words, "undetermined: the tracker has not decided")
    if fixed_version == "0":
        return FixVerdict(None, None, words, "not-affected: fixed_version 0")
    if fixed_version:
        if compare(installed, fixed_version) >= 0:
            return FixVerdict(None, fixed_version, words, "installed version includes the fix")
        return FixVerdict(FIXED, fixed_version, words, "installed version is older than the fix")
    if status == "resolved":
        return FixVerdict(None, None, words, "resolved without a fixed version")
    if (urgency or "").rstrip("*") == "end-of-life":
        return FixVerdict(END_OF_LIFE, None, words, "the release no longer gets security support")
    if nodsa_reason == "postponed":
        return FixVerdict(DEFERRED, None, words, "postponed to a later point release")
    if nodsa_reason == "ignored":
        return FixVerdict(WONT_FIX, None, words, "the security team will not fix it")
    return FixVerdict(NOT_FIXED, None, words, "open: no fixed version yet")


def alpine_verdict(installed: str, secfix_versions: list[str], compare: Compare) -> FixVerdict:
    """Alpine secfixes for one CVE: ``"0"`` means never affected; otherwise the package is
    affected while older than the fix.  A CVE listed under several versions (an incomplete first
    fix) counts as fixed by the highest one."""
    if "0" in secfix_versions:
        return FixVerdict(None, None, "secfixes 0", "not-affected: secfix version 0")
    highest = secfix_versions[0]
    for version in secfix_versions[1:]:
        if compare(version, highest) > 0:
            highest = version
    words = f"fixed in {highest}"
    if compare(installed, highest) >= 0:
        return FixVerdict(None, highest, words, "installed version includes the fix")
    return FixVerdict(FIXED, highest, words, "installed version is older than the fix")


# --- rpm distributions (Red Hat CSAF, Oracle ELSA, Amazon ALAS) -------------------------------
# Row states the rpm feeds store (``affected.state``); ``nodsa_reason`` carries Red Hat's
# remediation words for ``affected`` rows.
RPM_FIXED = "fixed"
RPM_AFFECTED = "affected"
RPM_NOT_AFFECTED = "not-affected"
RPM_INVESTIGATING = "under-investigation"

# Red Hat remediation details of a known_affected component → imagetrust state
RPM_NO_FIX_STATES = {
    "will not fix": WONT_FIX,
    "fix deferred": DEFERRED,
    "out of support scope": END_OF_LIFE,
}


def rpm_verdict(
    installed: str, rows: list[tuple[str, str | None, str | None]], compare: Compare
) -> FixVerdict:
    """One advisory's rows ``(state, fixed_version, detail)`` for one installed EVR → fix state.

    A published fix decides (the package is affected while older than the lowest fix in its
    release: any build at or above it carries the fix); without one, Red Hat's word on the
    component does: known_affected with a remediation detail, under investigation, or not
    affected.  ``installed`` and fixed versions are ``[epoch:]version-release``, compared with
    rpm's ``rpmvercmp`` (a missing epoch is 0).
    """
    fixes = [fixed for state, fixed, _ in rows if state == RPM_FIXED and fixed]
    if fixes:
        lowest = fixes[0]
        for fixed in fixes[1:]:
            if compare(fixed, lowest) < 0:
                lowest = fixed
        words = f"fixed in {lowest}"
        if compare(installed, lowest) >= 0:
            return FixVerdict(None, lowest, words, "installed version includes the fix")
        return FixVerdict(FIXED, lowest, words, "installed version is older than the fix")
    states = {state for state, _, _ in rows}
    details = [detail for state, _, detail in rows if state == RPM_AFFECTED and detail]
    if RPM_AFFECTED in states:
        detail = details[0] if details else None
        state = RPM_NO_FIX_STATES.get((detail or "").strip().lower(), NOT_FIXED)
        words = f"affected ({detail})" if detail else "affected"
        return FixVerdict(state, None, words, f"known affected: {detail or 'no remediation'}")
    if RPM_INVESTIGATING in states:
        return FixVerdict(NOT_FIXED, None, "under investigation", "may be affected: not cleared")
    return FixVerdict(None, None, "not affected", "the vendor lists it as not affected")

def photon_verdict(
    installed: str, state: str, fixed_version: str | None, compare: Compare
) -> FixVerdict:
    """Photon CVE metadata for one package: ``status: Not Affected`` is no finding; a ``res_ver``
    means every version before it is affected; ``res_ver: NA`` while affected → ``not-fixed``.

    ``installed`` and ``fixed_version`` are ``[epoch:]version-release``; a fix written without an
    epoch (Photon never writes one) is read in the installed package's epoch."""
    if state == "not-affected":
        return FixVerdict(None, None, "Not Affected", "not-affected: Photon says so")
    if not fixed_version:
        return FixVerdict(NOT_FIXED, None, "res_ver NA", "affected: no fixed version yet")
    words = f"fixed in {fixed_version}"
    epoch, sep, _ = installed.partition(":")
    fix = fixed_version
    if sep and ":" not in fixed_version and epoch.isdigit():
        fix = f"{epoch}:{fixed_version}"
    if compare(installed, fix) >= 0:
        return FixVerdict(None, fixed_version, words, "installed version includes the fix")
    return FixVerdict(FIXED, fixed_version, words, "installed version is older than the fix")
