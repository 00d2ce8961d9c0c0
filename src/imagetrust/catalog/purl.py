"""Package URL building shared by every cataloger, so all purls are encoded the same way.

packageurl-python does the percent-encoding and qualifier ordering that the purl spec requires;
this wrapper only drops empty qualifiers so callers can pass optional values unconditionally.
"""

from __future__ import annotations

from collections.abc import Mapping

from packageurl import PackageURL


def make_purl(
    type: str,
    namespace: str | None,
    name: str,
    version: str | None,
    qualifiers: Mapping[str, str | None] | None = None,
    subpath: str | None = None,
) -> str:
    """Canonical purl string; qualifiers whose value is None or empty are left out."""
    kept = {key: value for key, value in (qualifiers or {}).items() if value}
    return str(
        PackageURL(
            type=type,
            namespace=namespace or None,
            name=name,
            version=version or None,
            qualifiers=kept or None,
            subpath=subpath or None,
        ).to_string()
    )
