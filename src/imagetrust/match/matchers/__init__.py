"""Per-ecosystem matchers; :func:`default_matchers` is the order the scan tries them in.

:data:`MATCHER_VERSIONS` and :func:`matching_key` name the matching code a result came from, so
a cache of findings (the audit scan cache) is not served after a matcher changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import imagetrust
from imagetrust.match.matchers.alpine import AlpineMatcher
from imagetrust.match.matchers.base import Matcher, MatchOutcome
from imagetrust.match.matchers.debian import DebianMatcher
from imagetrust.match.matchers.osv import OsvLanguageMatcher
from imagetrust.match.matchers.photon import PhotonMatcher
from imagetrust.match.matchers.rpm import RpmOsvMatcher, RpmVendorMatcher, rpm_matchers
from imagetrust.match.matchers.suse import SuseMatcher, suse_matchers
from imagetrust.match.matchers.ubuntu import UbuntuMatcher
from imagetrust.match.matchers.wolfi import WolfiMatcher

MATCHER_VERSIONS: Mapping[str, int] = MappingProxyType({
    "debian": 1,
    "ubuntu": 1,
    "alpine": 2,  # apk versions: a letter followed by digits (1.9.5p2-r1) ordered as apk 2.14
    "osv": 1,
    "redhat": 1,
    "oracle": 1,
    "amazon": 1,
    "fedora": 1,
    "almalinux": 1,
    "rocky": 1,
    "photon": 1,
    "wolfi": 1,
    "sles": 1,
    "sle-micro": 1,
    "opensuse-leap": 1,
})
"""One version per matcher ``name``. Bump a matcher's entry whenever its findings for the same
packages and database can change (version comparison, fix states, which rows it reads): caches
keyed by :func:`matching_key` then stop serving its old results. A matcher missing here may
declare its own integer ``version`` attribute."""


def default_matchers() -> list[Matcher]:
    return [
        DebianMatcher(), UbuntuMatcher(), AlpineMatcher(), OsvLanguageMatcher(),
        *rpm_matchers(), PhotonMatcher(), WolfiMatcher(), *suse_matchers(),
    ]


def matcher_version(matcher: Matcher) -> str:
    """The table's version for ``matcher``, else its own ``version`` attribute, else ``?``."""
    if matcher.name in MATCHER_VERSIONS:
        return str(MATCHER_VERSIONS[matcher.name])
    own = getattr(matcher, "version", None)
    return str(own) if isinstance(own, int) and not isinstance(own, bool) else "?"


def matching_key(matchers: Sequence[Matcher] | None = None) -> str:
    """One string naming the matching code: ``imagetrust=<version>;<name>=<n>…`` sorted by name,
    for ``matchers`` (the default ones when None). Equal keys and an equal database, equal
    findings; bump :data:`MATCHER_VERSIONS` to invalidate caches that include it."""
    chosen = default_matchers() if matchers is None else matchers
    parts = [f"imagetrust={imagetrust.__version__}"]
    parts.extend(sorted(f"{m.name}={matcher_version(m)}" for m in chosen))
    return ";".join(parts)


__all__ = [
    "MATCHER_VERSIONS", "AlpineMatcher", "DebianMatcher", "MatchOutcome", "Matcher",
    "OsvLanguageMatcher", "PhotonMatcher", "RpmOsvMatcher", "RpmVendorMatcher", "SuseMatcher",
    "UbuntuMatcher", "WolfiMatcher", "default_matchers", "matcher_version", "matching_key",
]
