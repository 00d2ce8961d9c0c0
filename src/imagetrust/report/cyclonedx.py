"""CycloneDX 1.6 JSON SBOM of a catalog, built with cyclonedx-python-lib.

The image is the BOM's ``metadata.component`` (type ``container``) and depends on every package,
so the dependency graph is complete. The OS is an ``operating-system`` component as Syft and
Trivy write it. Layer attribution and the cataloger travel as ``imagetrust:*`` properties (the
vocabulary lives in :mod:`imagetrust.catalog.sbom_input`, which reads them back), and the
locations also as standard ``evidence.occurrences``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.spdx import is_expression
from packageurl import PackageURL

from imagetrust import __version__
from imagetrust.catalog.model import Catalog, OSInfo, Package
from imagetrust.catalog.sbom_input import os_properties, package_properties
from imagetrust.errors import ImagetrustError
from imagetrust.reference.parse import parse_reference

IMAGE_REF = "image"


def cyclonedx_json(catalog: Catalog, image: str, digest: str | None = None) -> str:
    """The catalog as a CycloneDX 1.6 JSON document (``image``: reference or path scanned)."""
    return JsonV1Dot6(cyclonedx_bom(catalog, image, digest)).output_as_string(indent=2)


def cyclonedx_bom(catalog: Catalog, image: str, digest: str | None = None) -> Bom:
    bom = Bom()
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="imagetrust", version=__version__)
    )
    root = Component(
        type=ComponentType.CONTAINER,
        name=image,
        version=digest,
        bom_ref=IMAGE_REF,
        hashes=[],
        purl=_oci_purl(image, digest),
    )
    bom.metadata.component = root
    components: list[Component] = []
    if catalog.os is not None:
        components.append(_os_component(catalog.os))
    seen: set[str] = set()
    for pkg in catalog.packages:
        comp = _component(pkg, seen)
        components.append(comp)
    for comp in components:
        bom.components.add(comp)
    bom.register_dependency(root, components)
    for comp in components:
        bom.register_dependency(comp)
    return bom


def _component(pkg: Package, seen: set[str]) -> Component:
    ref = _bom_ref(pkg, seen)
    occurrences = [Occurrence(location=loc.path) for loc in pkg.locations]
    return Component(
        type=ComponentType.LIBRARY,
        name=pkg.name,
        version=pkg.version,
        group=pkg.namespace if pkg.type == "maven" else None,
        bom_ref=ref,
        purl=PackageURL.from_string(pkg.purl),
        licenses=_licenses(pkg.licenses),
        properties=_properties(package_properties(pkg)),
        evidence=ComponentEvidence(occurrences=occurrences) if occurrences else None,
    )


def _bom_ref(pkg: Package, seen: set[str]) -> str:
    """Unique and stable: the same package at two paths is two components."""
    key = "\0".join([pkg.purl, *(f"{loc.path}@{loc.diff_id}" for loc in pkg.locations)])
    ref = f"{pkg.purl}?package-id={hashlib.sha256(key.encode()).hexdigest()[:16]}"
    n = 1
    unique = ref
    while unique in seen:
        n += 1
        unique = f"{ref}-{n}"
    seen.add(unique)
    return unique


def _os_component(os_info: OSInfo) -> Component:
    return Component(
        type=ComponentType.OPERATING_SYSTEM,
        name=os_info.id,
        version=os_info.version_id,
        description=os_info.pretty_name,
        bom_ref=f"os:{os_info.id}@{os_info.version_id or ''}",
        properties=_properties(os_properties(os_info)),
    )


def _licenses(values: Iterable[str]) -> list[License]:
    """One value: an SPDX id, an expression or a free-text name. Several: one ``AND``
    expression when all are SPDX, else ids and names (CycloneDX forbids an expression next to
    other entries)."""
    items = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    factory = LicenseFactory()
    if len(items) == 1:
        return [factory.make_from_string(items[0])]
    if items and all(is_expression(v) for v in items):
        return [LicenseExpression(" AND ".join(f"({v})" if " " in v else v for v in items))]
    out: list[License] = []
    for value in items:
        lic = factory.make_from_string(value)
        out.append(DisjunctiveLicense(name=value) if isinstance(lic, LicenseExpression) else lic)
    return out


def _properties(pairs: Iterable[tuple[str, str]]) -> list[Property]:
    return [Property(name=name, value=value) for name, value in pairs]


def _oci_purl(image: str, digest: str | None) -> PackageURL | None:
    """purl-spec ``oci`` type (``pkg:oci/NAME@sha256:…?repository_url=REGISTRY/REPO&tag=T``);
    only for registry references, a local archive path has no repository URL."""
    if not digest:
        return None
    try:
        ref = parse_reference(image)
    except ImagetrustError:
        return None
    qualifiers = {"repository_url": f"{ref.registry}/{ref.repository}"}
    if ref.tag:
        qualifiers["tag"] = ref.tag
    return PackageURL(type="oci", name=ref.repository.rsplit("/", 1)[-1], version=digest,
                      qualifiers=qualifiers)
