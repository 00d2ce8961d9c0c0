"""Does a package URL (and ``vers:`` range) in a VEX statement or exception name this package?

Type, namespace and name must be equal; a version, when the statement gives one, must equal the
installed version under the ecosystem's own ordering (``imagetrust.versions``); qualifiers count
only when the statement gives them (``?arch=amd64`` narrows, its absence does not). A ``vers:``
range is evaluated with the algorithm of the vers specification.
"""

from __future__ import annotations

from functools import lru_cache

from packageurl import PackageURL

from imagetrust import versions
from imagetrust.errors import ImagetrustError

_CASE_INSENSITIVE = frozenset({"deb", "apk", "rpm", "pypi", "npm", "github", "bitbucket"})
_SCHEME = {"golang": "golang", "deb": "deb", "apk": "apk", "rpm": "rpm", "pypi": "pypi",
           "npm": "npm", "cargo": "cargo", "maven": "maven", "gem": "gem"}


@lru_cache(maxsize=4096)
def parse_purl(text: str) -> PackageURL | None:
    """The parsed purl, or None when ``text`` is no valid package URL."""
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _norm(purl: PackageURL, value: str | None) -> str | None:
    if value is None:
        return None
    return value.lower() if purl.type in _CASE_INSENSITIVE else value


def same_version(scheme: str, a: str, b: str) -> bool:
    """Equal under the ecosystem's ordering (``1:1.0`` vs ``1.0`` for rpm…), else as text."""
    if a == b:
        return True
    if scheme in _SCHEME:
        try:
            return versions.compare(_SCHEME[scheme], a, b) == 0
        except (ImagetrustError, ValueError):
            return False
    return a.lstrip("v") == b.lstrip("v")


def purl_matches(pattern: str, installed: str) -> bool:
    """``pattern`` (from a statement) names the package ``installed`` (a scan's purl)."""
    want, have = parse_purl(pattern), parse_purl(installed)
    if want is None or have is None or want.type != have.type:
        return False
    if _norm(want, want.name) != _norm(have, have.name):
        return False
    if _norm(want, want.namespace or "") != _norm(have, have.namespace or ""):
        return False
    if want.subpath and want.subpath != have.subpath:
        return False
    if want.version and not (have.version and same_version(want.type, want.version,
                                                            have.version)):
        return False
    have_q = have.qualifiers if isinstance(have.qualifiers, dict) else {}
    want_q = want.qualifiers if isinstance(want.qualifiers, dict) else {}
    return all(have_q.get(k) == v for k, v in want_q.items())


def in_vers_range(version_range: str, scheme: str, version: str) -> bool:
    """``version`` lies in ``version_range``: a ``vers:`` range, or a single version."""
    if not version_range.startswith("vers:"):
        return same_version(scheme, version_range, version)
    _, _, body = version_range[5:].partition("/")
    if body.strip() == "*":
        return True
    cmp_scheme = _SCHEME.get(scheme)

    def compare(a: str, b: str) -> int:
        if cmp_scheme is None:
            return (a > b) - (a < b)
        return versions.compare(cmp_scheme, a, b)

    constraints: list[tuple[str, str]] = []
    for raw in body.split("|"):
        raw = raw.strip()
        for op in (">=", "<=", "!=", ">", "<", "="):
            if raw.startswith(op):
                constraints.append((op, raw[len(op):].strip()))
                break
        else:
            constraints.append(("=", raw))
    try:
        for op, bound in constraints:
            if op in ("=", ">=", "<=") and compare(version, bound) == 0:
                return True
            if op == "!=" and compare(version, bound) == 0:
                return False
        ordered = sorted(
            ((op, bound) for op, bound in constraints if op not in ("=", "!=")),
            key=lambda c: versions.key(cmp_scheme, c[1]) if cmp_scheme else c[1],
        )
        if not ordered:
            return False
        first_op, first = ordered[0]
        if first_op in ("<", "<=") and compare(version, first) < 0:
            return True
        last_op, last = ordered[-1]
        if last_op in (">", ">=") and compare(version, last) > 0:
            return True
        for (op, low), (next_op, high) in zip(ordered, ordered[1:], strict=False):
            if (op in (">", ">=") and next_op in ("<", "<=")
                    and compare(version, low) > 0 and compare(version, high) < 0):
                return True
    except (ImagetrustError, ValueError):
        return False
    return False


__all__ = ["in_vers_range", "parse_purl", "purl_matches", "same_version"]
