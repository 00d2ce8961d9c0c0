"""SPDX 2.3 JSON SBOM of a catalog, built and validated with spdx-tools.

The document DESCRIBES the image (a ``CONTAINER`` package) that CONTAINS every package and the
OS (an ``OPERATING-SYSTEM`` package). purls are ``externalRefs``; SPDX has no free-form
properties, so the cataloger, source package and layer locations are package annotations whose
comment is ``imagetrust:key=value`` (read back by :mod:`imagetrust.catalog.sbom_input`).
Licences that are not SPDX expressions become ``LicenseRef-`` ids with extracted-licence info
instead of being dropped.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.annotation import Annotation, AnnotationType
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
from spdx_tools.spdx.model.package import (
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    PackagePurpose,
)
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from imagetrust import __version__
from imagetrust.catalog.model import Catalog, OSInfo
from imagetrust.catalog.model import Package as CatalogPackage
from imagetrust.catalog.sbom_input import os_properties, package_properties

NAMESPACE_BASE = "https://imagetrust.invalid/spdx/"
"""Document namespaces must be unique URIs; ``.invalid`` (RFC 2606) can never resolve."""
IMAGE_ID = "SPDXRef-image"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def spdx_json(
    catalog: Catalog, image: str, digest: str | None = None, *, created: datetime | None = None
) -> str:
    """The catalog as an SPDX 2.3 JSON document, validated by spdx-tools before it is written."""
    stream = io.StringIO()
    # An invalid document here is an imagetrust bug, so spdx-tools' exception is left to show.
    write_document_to_stream(spdx_document(catalog, image, digest, created=created), stream)
    return stream.getvalue()


def spdx_document(
    catalog: Catalog, image: str, digest: str | None = None, *, created: datetime | None = None
) -> Document:
    when = (created or datetime.now(UTC)).replace(microsecond=0)
    tool = Actor(ActorType.TOOL, f"imagetrust-{__version__}")
    slug = _ID_UNSAFE.sub("-", image).strip("-")[:80] or "image"
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=image,
        document_namespace=f"{NAMESPACE_BASE}{slug}-{uuid.uuid4()}",
        creators=[tool],
        created=when,
    )
    image_pkg = Package(
        spdx_id=IMAGE_ID,
        name=image,
        download_location=SpdxNoAssertion(),
        version=digest,
        files_analyzed=False,
        primary_package_purpose=PackagePurpose.CONTAINER,
    )
    packages = [image_pkg]
    annotations: list[Annotation] = []
    extracted: dict[str, ExtractedLicensingInfo] = {}
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, IMAGE_ID)]
    used_ids: set[str] = {IMAGE_ID}
    if catalog.os is not None:
        os_pkg = _os_package(catalog.os)
        packages.append(os_pkg)
        used_ids.add(os_pkg.spdx_id)
        annotations += _annotations(os_pkg.spdx_id, os_properties(catalog.os), tool, when)
    for pkg in catalog.packages:
        spdx_id = _package_id(pkg, used_ids)
        packages.append(Package(
            spdx_id=spdx_id,
            name=pkg.name,
            download_location=SpdxNoAssertion(),
            version=pkg.version,
            files_analyzed=False,
            source_info=_source_info(pkg),
            license_concluded=SpdxNoAssertion(),
            license_declared=_license(pkg.licenses, extracted),
            copyright_text=SpdxNoAssertion(),
            external_references=[ExternalPackageRef(
                ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", pkg.purl
            )],
            primary_package_purpose=PackagePurpose.LIBRARY,
        ))
        annotations += _annotations(spdx_id, package_properties(pkg), tool, when)
    relationships += [
        Relationship(IMAGE_ID, RelationshipType.CONTAINS, p.spdx_id) for p in packages[1:]
    ]
    return Document(
        creation_info=info,
        packages=packages,
        annotations=annotations,
        relationships=relationships,
        extracted_licensing_info=list(extracted.values()),
    )


def _os_package(os_info: OSInfo) -> Package:
    return Package(
        spdx_id=f"SPDXRef-OperatingSystem-{_ID_UNSAFE.sub('-', os_info.id)}",
        name=os_info.id,
        download_location=SpdxNoAssertion(),
        version=os_info.version_id,
        description=os_info.pretty_name,
        files_analyzed=False,
        primary_package_purpose=PackagePurpose.OPERATING_SYSTEM,
    )


def _package_id(pkg: CatalogPackage, used: set[str]) -> str:
    key = "\0".join([pkg.purl, *(f"{loc.path}@{loc.diff_id}" for loc in pkg.locations)])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    base = f"SPDXRef-Package-{pkg.type}-{_ID_UNSAFE.sub('-', pkg.name).strip('-')[:60]}-{digest}"
    spdx_id, n = base, 1
    while spdx_id in used:
        n += 1
        spdx_id = f"{base}-{n}"
    used.add(spdx_id)
    return spdx_id


def _source_info(pkg: CatalogPackage) -> str:
    paths = ", ".join(f"/{loc.path}" for loc in pkg.locations)
    return f"found by the imagetrust {pkg.cataloger} cataloger in {paths}"


def _license(values: Iterable[str], extracted: dict[str, ExtractedLicensingInfo]) -> object:
    """SPDX expressions as they are; anything else becomes a ``LicenseRef-`` (AND-joined)."""
    parts: list[str] = []
    for value in (v.strip() for v in values):
        if not value:
            continue
        if is_spdx_expression(value):
            parts.append(f"({value})" if " " in value else value)
            continue
        # Our own prefix: license-expression maps some bare refs (LicenseRef-Apache-2.0) to ids.
        ref = "LicenseRef-imagetrust-" + (_ID_UNSAFE.sub("-", value).strip("-")[:60] or "unknown")
        if ref in extracted and extracted[ref].license_name != value:
            ref += "-" + hashlib.sha256(value.encode()).hexdigest()[:8]
        extracted.setdefault(ref, ExtractedLicensingInfo(
            license_id=ref, extracted_text=value, license_name=value,
            comment="licence named by the package metadata, not an SPDX identifier",
        ))
        parts.append(ref)
    if not parts:
        return SpdxNoAssertion()
    return spdx_licensing.parse(" AND ".join(dict.fromkeys(parts)))


def is_spdx_expression(value: str) -> bool:
    """True for a valid SPDX expression of known ids (license-expression can crash on odd
    input such as ``MIT/X11``, which is simply not SPDX)."""
    try:
        return not spdx_licensing.validate(value).errors
    except Exception:  # any internal failure of the parser means "not a valid expression"
        return False


def _annotations(
    spdx_id: str, pairs: Iterable[tuple[str, str]], tool: Actor, when: datetime
) -> list[Annotation]:
    return [
        Annotation(spdx_id, AnnotationType.OTHER, tool, when, f"{name}={value}")
        for name, value in pairs
    ]
