"""SPDX 2.3 JSON SBOM of a catalog, written as plain JSON.

The document DESCRIBES the image (a ``CONTAINER`` package) that CONTAINS every package and the
OS (an ``OPERATING_SYSTEM`` package). purls are ``externalRefs``; SPDX has no free-form
properties, so the cataloger, source package and layer locations are package annotations whose
comment is ``imagetrust:key=value`` (read back by :mod:`imagetrust.catalog.sbom_input`).
Licences that are not SPDX expressions of listed ids become ``LicenseRef-imagetrust-`` ids with
extracted-licence info instead of being dropped. The catalog has no file checksums, so packages
carry none (``filesAnalyzed`` is false).

Why not spdx-tools: importing it pulls in rdflib, beartype and license-expression (0.15-0.22 s),
and its validation and serializer ran on every document (docs/performance.md). The tests parse
and validate the written documents with spdx-tools' parser and validator instead. One spelling
follows the SPDX 2.3 JSON schema rather than spdx-tools: ``referenceCategory`` is
``PACKAGE-MANAGER`` (spdx-tools wrote ``PACKAGE_MANAGER``, which the schema rejects). Licences
are classified by :mod:`imagetrust.report.spdx_license`, whose few differences from
license-expression it lists (an unversioned ``GPL`` is now a ``LicenseRef``, not
``GPL-1.0-or-later``).

Paths and names read from an image may hold bytes that are not UTF-8 (kept as surrogate escapes
by the tar reader); those bytes are written as the text ``\\xNN`` so the document is valid
Unicode that every JSON reader accepts (:func:`imagetrust.jsonutil.valid_unicode`, shared by every
report), and the SPDX ids and hashes still see the real bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from imagetrust import __version__
from imagetrust.catalog.model import Catalog, OSInfo, Package
from imagetrust.catalog.sbom_input import os_properties, package_properties
from imagetrust.jsonutil import raw_bytes as _raw_bytes
from imagetrust.jsonutil import valid_unicode as _valid_unicode
from imagetrust.report.spdx_license import is_spdx_expression, spdx_id_of

NAMESPACE_BASE = "https://imagetrust.invalid/spdx/"
"""Document namespaces must be unique URIs; ``.invalid`` (RFC 2606) can never resolve."""
DOCUMENT_ID = "SPDXRef-DOCUMENT"
IMAGE_ID = "SPDXRef-image"
NOASSERTION = "NOASSERTION"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_LICENSE_TOKEN = re.compile(r"\(|\)|[^\s()]+")
_OPERATORS = ("AND", "OR", "WITH")

JsonObject = dict[str, Any]


def spdx_json(
    catalog: Catalog, image: str, digest: str | None = None, *, created: datetime | None = None
) -> str:
    """The catalog as an SPDX 2.3 JSON document (``image``: reference or path scanned)."""
    return json.dumps(spdx_document(catalog, image, digest, created=created), indent=2)


def spdx_document(
    catalog: Catalog, image: str, digest: str | None = None, *, created: datetime | None = None
) -> JsonObject:
    """The document as JSON-ready dicts (each call has a new namespace)."""
    when = _timestamp(created or datetime.now(UTC))
    tool = f"Tool: imagetrust-{__version__}"
    slug = _ID_UNSAFE.sub("-", image).strip("-")[:80] or "image"
    image_pkg: JsonObject = {"SPDXID": IMAGE_ID, "name": image}
    if digest:
        image_pkg["versionInfo"] = digest
    image_pkg |= {"downloadLocation": NOASSERTION, "filesAnalyzed": False,
                  "primaryPackagePurpose": "CONTAINER"}
    packages = [image_pkg]
    extracted: dict[str, JsonObject] = {}
    used_ids: set[str] = {IMAGE_ID}
    if catalog.os is not None:
        os_pkg = _os_package(catalog.os)
        _annotate(os_pkg, os_properties(catalog.os), tool, when)
        used_ids.add(os_pkg["SPDXID"])
        packages.append(os_pkg)
    for pkg in catalog.packages:
        entry: JsonObject = {
            "SPDXID": _package_id(pkg, used_ids),
            "name": pkg.name,
            "versionInfo": pkg.version,
            "downloadLocation": NOASSERTION,
            "filesAnalyzed": False,
            "sourceInfo": _source_info(pkg),
            "licenseConcluded": NOASSERTION,
            "licenseDeclared": _license(pkg.licenses, extracted),
            "copyrightText": NOASSERTION,
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": pkg.purl}],
            "primaryPackagePurpose": "LIBRARY",
        }
        _annotate(entry, package_properties(pkg), tool, when)
        packages.append(entry)
    relationships = [_relationship(DOCUMENT_ID, "DESCRIBES", IMAGE_ID)]
    relationships += [_relationship(IMAGE_ID, "CONTAINS", p["SPDXID"]) for p in packages[1:]]
    document: JsonObject = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": DOCUMENT_ID,
        "name": image,
        "documentNamespace": f"{NAMESPACE_BASE}{slug}-{uuid.uuid4()}",
        "creationInfo": {"created": when, "creators": [tool]},
        "packages": packages,
        "relationships": relationships,
    }
    if extracted:
        document["hasExtractedLicensingInfos"] = list(extracted.values())
    valid: JsonObject = _valid_unicode(document)
    return valid


def _timestamp(when: datetime) -> str:
    """SPDX's ``YYYY-MM-DDThh:mm:ssZ``, in UTC (a naive datetime is taken as UTC)."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _os_package(os_info: OSInfo) -> JsonObject:
    entry: JsonObject = {
        "SPDXID": f"SPDXRef-OperatingSystem-{_ID_UNSAFE.sub('-', os_info.id)}",
        "name": os_info.id,
    }
    if os_info.version_id is not None:
        entry["versionInfo"] = os_info.version_id
    entry |= {"downloadLocation": NOASSERTION, "filesAnalyzed": False}
    if os_info.pretty_name is not None:
        entry["description"] = os_info.pretty_name
    entry["primaryPackagePurpose"] = "OPERATING_SYSTEM"
    return entry


def _package_id(pkg: Package, used: set[str]) -> str:
    key = "\0".join([pkg.purl, *(f"{loc.path}@{loc.diff_id}" for loc in pkg.locations)])
    digest = hashlib.sha256(_raw_bytes(key)).hexdigest()[:16]
    base = f"SPDXRef-Package-{pkg.type}-{_ID_UNSAFE.sub('-', pkg.name).strip('-')[:60]}-{digest}"
    spdx_id, n = base, 1
    while spdx_id in used:
        n += 1
        spdx_id = f"{base}-{n}"
    used.add(spdx_id)
    return spdx_id


def _source_info(pkg: Package) -> str:
    paths = ", ".join(f"/{loc.path}" for loc in pkg.locations)
    return f"found by the imagetrust {pkg.cataloger} cataloger in {paths}"


def _annotate(entry: JsonObject, pairs: Iterable[tuple[str, str]], tool: str, when: str) -> None:
    annotations = [
        {"annotationDate": when, "annotationType": "OTHER", "annotator": tool,
         "comment": f"{name}={value}"}
        for name, value in pairs
    ]
    if annotations:
        entry["annotations"] = annotations


def _relationship(element: str, kind: str, related: str) -> JsonObject:
    return {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}


# --- licences --------------------------------------------------------------------------------


def _license(values: Iterable[str], extracted: dict[str, JsonObject]) -> str:
    """SPDX expressions of listed ids (in their current form); anything else becomes a
    ``LicenseRef-imagetrust-`` id with the text kept. Several values are AND-joined."""
    parts: list[str] = []
    for value in (v.strip() for v in values):
        if not value:
            continue
        canonical = _canonical_expression(value)
        if _is_listed_expression(canonical):
            parts.append(canonical)
            continue
        # Our own prefix, so a package's "LicenseRef-x" can never clash with an id made here.
        ref = "LicenseRef-imagetrust-" + (_ID_UNSAFE.sub("-", value).strip("-")[:60] or "unknown")
        if ref in extracted and extracted[ref]["name"] != value:
            ref += "-" + hashlib.sha256(_raw_bytes(value)).hexdigest()[:8]
        extracted.setdefault(ref, {
            "licenseId": ref, "extractedText": value, "name": value,
            "comment": "licence named by the package metadata, not an SPDX identifier",
        })
        parts.append(ref)
    unique = list(dict.fromkeys(parts))
    if not unique:
        return NOASSERTION
    if len(unique) == 1:
        return unique[0]
    return " AND ".join(f"({part})" if " " in part else part for part in unique)


def _is_listed_expression(value: str) -> bool:
    """``value`` is an SPDX expression over listed ids only: a package's own ``LicenseRef-``
    would need its licence text in the document, which the metadata does not give."""
    return is_spdx_expression(value) and "licenseref-" not in value.lower()


def _canonical_expression(value: str) -> str:
    """``value`` with listed ids in their current form, operators in upper case and single
    spaces, and a pair of parentheses around the whole dropped. Unknown words are left alone
    (the result is then no SPDX expression)."""
    tokens = _LICENSE_TOKEN.findall(value)
    if tokens[0] == "(" and tokens[-1] == ")" and _closes_at_end(tokens):
        tokens = tokens[1:-1]
    out: list[str] = []
    for token in tokens:
        if token.upper() in _OPERATORS:
            out.append(f" {token.upper()} ")
        elif token in "()":
            out.append(token)
        else:
            out.append(_current_id(token))
    return "".join(out)


def _current_id(token: str) -> str:
    """The listed id ``token`` names, in its listed case, with the GNU ids the SPDX list
    deprecated in 3.0 replaced as license-expression replaced them (Debian copyright files still
    use the old forms): ``LGPL-2.1`` → ``LGPL-2.1-only``; ``LGPL-2.1+`` and ``GFDL-1.2+`` (the
    SPDX ``+`` operator) → ``…-or-later``. Anything else is returned as it is."""
    listed = spdx_id_of(token)
    if listed is None:
        if token.endswith("+") and spdx_id_of(token[:-1]) is not None:
            return spdx_id_of(token[:-1] + "-or-later") or token
        return token
    if listed.endswith("+"):
        return spdx_id_of(listed[:-1] + "-or-later") or listed
    return spdx_id_of(listed + "-only") or listed


def _closes_at_end(tokens: list[str]) -> bool:
    """True if the ``(`` at ``tokens[0]`` is closed by the last token, not earlier."""
    depth = 0
    for i, token in enumerate(tokens):
        depth += {"(": 1, ")": -1}.get(token, 0)
        if depth == 0:
            return i == len(tokens) - 1
    return False
