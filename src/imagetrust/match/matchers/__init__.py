"""Per-ecosystem matchers; :func:`default_matchers` is the order the scan tries them in."""

from __future__ import annotations

from imagetrust.match.matchers.alpine import AlpineMatcher
from imagetrust.match.matchers.base import Matcher, MatchOutcome
from imagetrust.match.matchers.debian import DebianMatcher
from imagetrust.match.matchers.osv import OsvLanguageMatcher
from imagetrust.match.matchers.ubuntu import UbuntuMatcher


def default_matchers() -> list[Matcher]:
    return [DebianMatcher(), UbuntuMatcher(), AlpineMatcher(), OsvLanguageMatcher()]


__all__ = [
    "AlpineMatcher", "DebianMatcher", "MatchOutcome", "Matcher", "OsvLanguageMatcher",
    "UbuntuMatcher", "default_matchers",
]
