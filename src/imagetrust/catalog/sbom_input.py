"""Read a CycloneDX or SPDX JSON SBOM back into a :class:`Catalog` (``imagetrust cves sbom:F``).

The format is detected from the content, not the file name. Documents are walked as plain JSON
rather than through the strict cyclonedx/spdx-tools models: SBOMs from Syft, Trivy and older
spec versions routinely fail those models on fields we do not need, while the handful we do need
(purl, name, version, licences, properties) are stable across versions.

This module also owns the ``imagetrust:*`` property vocabulary that the report stage's SBOM
writers emit, so that writing and reading cannot drift apart (report may import catalog, not
the reverse).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from imagetrust.catalog.model import Catalog, CatalogSkip, Location, OSInfo, Package
from imagetrust.errors import CatalogError

PREFIX = "imagetrust:"
P_CATALOGER = "imagetrust:cataloger"
P_LAYER_DIFF_ID = "imagetrust:layer:diffID"
"""diff_id of the layer that introduced the package (its earliest location)."""
P_SOURCE_NAME = "imagetrust:sourceName"
P_SOURCE_VERSION = "imagetrust:sourceVersion"
P_ARCHITECTURE = "imagetrust:architecture"
P_EPOCH = "imagetrust:epoch"
P_METADATA = "imagetrust:metadata:"
P_OS_CODENAME = "imagetrust:os:codename"
P_OS_POINT_RELEASE = "imagetrust:os:pointRelease"
P_OS_ID_LIKE = "imagetrust:os:idLike"
P_OS_DISTROLESS = "imagetrust:os:distroless"
MAX_SBOM_SIZE = 512 * 1024 * 1024
SBOM_CATALOGER = "sbom"
"""Cataloger name for packages read from a foreign SBOM that does not say who found them."""


def location_keys(index: int) -> tuple[str, str, str]:
    """Property names of one location: path, layer diff_id, layer index."""
    base = f"imagetrust:location:{index}:"
    return base + "path", base + "layerDiffID", base + "layerIndex"


def package_properties(pkg: Package) -> list[tuple[str, str]]:
    """Everything a Package holds beyond name/version/purl/licences, as ordered properties."""
    props = [(P_CATALOGER, pkg.cataloger)]
    first = pkg.introduced_by
    if first is not None:
        props.append((P_LAYER_DIFF_ID, first.diff_id))
    for i, loc in enumerate(pkg.locations):
        k_path, k_diff, k_index = location_keys(i)
        props += [(k_path, loc.path), (k_diff, loc.diff_id), (k_index, str(loc.layer_index))]
    optional = ((P_SOURCE_NAME, pkg.source_name), (P_SOURCE_VERSION, pkg.source_version),
                (P_ARCHITECTURE, pkg.architecture),
                (P_EPOCH, None if pkg.epoch is None else str(pkg.epoch)))
    props += [(k, v) for k, v in optional if v is not None]
    props += [(P_METADATA + k, v) for k, v in sorted(pkg.metadata.items())]
    return props


def os_properties(os_info: OSInfo) -> list[tuple[str, str]]:
    props: list[tuple[str, str]] = []
    if os_info.codename:
        props.append((P_OS_CODENAME, os_info.codename))
    if os_info.point_release:
        props.append((P_OS_POINT_RELEASE, os_info.point_release))
    if os_info.id_like:
        props.append((P_OS_ID_LIKE, " ".join(os_info.id_like)))
    if os_info.distroless:
        props.append((P_OS_DISTROLESS, "true"))
    return props


def read_sbom(path: str | Path) -> Catalog:
    """Packages and OS of a CycloneDX or SPDX JSON document (imagetrust's own JSON too)."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_SBOM_SIZE:
            raise CatalogError(f"SBOM {file} is larger than {MAX_SBOM_SIZE} bytes; split it")
        with file.open("rb") as stream:
            document = json.load(stream)
    except FileNotFoundError:
        raise CatalogError(f"SBOM {file} does not exist; check the path after sbom:") from None
    except OSError as exc:
        raise CatalogError(f"cannot read SBOM {file}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise CatalogError(
            f"SBOM {file} is not valid JSON ({_one_line(exc)}); only JSON SBOMs are supported"
        ) from None
    return parse_sbom(document, str(file))


def parse_sbom(document: Any, name: str = "SBOM") -> Catalog:
    """:func:`read_sbom` on an already decoded document."""
    if not isinstance(document, dict):
        raise CatalogError(f"{name} is not a JSON object; expected CycloneDX or SPDX JSON")
    try:
        if document.get("bomFormat") == "CycloneDX":
            return _from_cyclonedx(document)
        if isinstance(document.get("spdxVersion"), str):
            return _from_spdx(document)
        if isinstance(document.get("packages"), list) and isinstance(document.get("image"), dict):
            return _from_imagetrust(document)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise CatalogError(f"{name} is malformed ({_one_line(exc)}); regenerate the SBOM") from None
    raise CatalogError(
        f"{name} is neither CycloneDX JSON (bomFormat) nor SPDX JSON (spdxVersion); "
        "convert it to one of them"
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --- CycloneDX -------------------------------------------------------------------------------


def _require_list(doc: Mapping[str, Any], key: str) -> None:
    if not isinstance(doc.get(key) or [], list):
        raise ValueError(f'"{key}" is not a list')


def _from_cyclonedx(doc: Mapping[str, Any]) -> Catalog:
    _require_list(doc, "components")
    packages: list[Package] = []
    skips: list[CatalogSkip] = []
    os_info: OSInfo | None = None
    metadata = doc.get("metadata") or {}
    components = list(_walk_components(doc.get("components") or []))
    root = metadata.get("component")
    if isinstance(root, dict):
        components += list(_walk_components(root.get("components") or []))
    for comp in components:
        props = _cdx_properties(comp)
        if comp.get("type") == "operating-system":
            os_info = os_info or _os_from(comp.get("name"), comp.get("version"),
                                          comp.get("description"), props)
            continue
        purl = comp.get("purl")
        if not purl:
            if comp.get("type") in ("library", "framework", "application"):
                skips.append(CatalogSkip(SBOM_CATALOGER, str(comp.get("name", "?")),
                                         "component has no purl"))
            continue
        result = _package(str(purl), comp.get("name"), comp.get("version"),
                          _cdx_licenses(comp.get("licenses") or []), props,
                          _cdx_occurrences(comp))
        if isinstance(result, Package):
            packages.append(result)
        else:
            skips.append(result)
    return Catalog(os=os_info or _os_from_purls(packages), packages=tuple(packages),
                   skips=tuple(skips))


def _walk_components(items: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for comp in items:
        if isinstance(comp, dict):
            yield comp
            yield from _walk_components(comp.get("components") or [])


def _cdx_properties(comp: Mapping[str, Any]) -> dict[str, str]:
    return {
        p["name"]: str(p.get("value", ""))
        for p in comp.get("properties") or []
        if isinstance(p, dict) and isinstance(p.get("name"), str)
    }


def _cdx_licenses(items: Iterable[Any]) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("expression"), str):
            out.append(item["expression"])
        lic = item.get("license")
        if isinstance(lic, dict):
            text = lic.get("id") or lic.get("name")
            if isinstance(text, str) and text:
                out.append(text)
    return tuple(out)


def _cdx_occurrences(comp: Mapping[str, Any]) -> list[str]:
    evidence = comp.get("evidence") or {}
    return [o["location"] for o in evidence.get("occurrences") or []
            if isinstance(o, dict) and isinstance(o.get("location"), str)]


# --- SPDX ------------------------------------------------------------------------------------


def _from_spdx(doc: Mapping[str, Any]) -> Catalog:
    if not str(doc["spdxVersion"]).startswith("SPDX-2."):
        raise CatalogError(f"unsupported {doc['spdxVersion']}; only SPDX 2.x JSON is read")
    _require_list(doc, "packages")
    notes: dict[str, dict[str, str]] = {}
    for holder in [doc, *(p for p in doc.get("packages") or [] if isinstance(p, dict))]:
        for ann in holder.get("annotations") or []:
            key, sep, value = str(ann.get("comment", "")).partition("=")
            if sep and key.startswith(PREFIX):
                target = holder.get("SPDXID", "") if holder is not doc else ""
                notes.setdefault(target, {})[key] = value
    extracted = {
        e.get("licenseId"): e.get("name") or e.get("extractedText")
        for e in doc.get("hasExtractedLicensingInfos") or [] if isinstance(e, dict)
    }
    packages: list[Package] = []
    skips: list[CatalogSkip] = []
    os_info: OSInfo | None = None
    for spdx_pkg in doc.get("packages") or []:
        if not isinstance(spdx_pkg, dict):
            continue
        props = notes.get(spdx_pkg.get("SPDXID", ""), {})
        if spdx_pkg.get("primaryPackagePurpose") in ("OPERATING_SYSTEM", "OPERATING-SYSTEM"):
            os_info = os_info or _os_from(spdx_pkg.get("name"), spdx_pkg.get("versionInfo"),
                                          spdx_pkg.get("description"), props)
            continue
        purls = [r.get("referenceLocator") for r in spdx_pkg.get("externalRefs") or []
                 if isinstance(r, dict) and r.get("referenceType") == "purl"]
        if not purls:
            if spdx_pkg.get("primaryPackagePurpose") not in ("CONTAINER", "FILE", "SOURCE"):
                skips.append(CatalogSkip(SBOM_CATALOGER, str(spdx_pkg.get("name", "?")),
                                         "package has no purl external reference"))
            continue
        declared = spdx_pkg.get("licenseDeclared")
        licenses: tuple[str, ...] = ()
        if isinstance(declared, str) and declared not in ("NOASSERTION", "NONE"):
            licenses = _split_licenses(declared, extracted)
        result = _package(str(purls[0]), spdx_pkg.get("name"), spdx_pkg.get("versionInfo"),
                          licenses, props, [])
        if isinstance(result, Package):
            packages.append(result)
        else:
            skips.append(result)
    return Catalog(os=os_info or _os_from_purls(packages), packages=tuple(packages),
                   skips=tuple(skips))


def _split_licenses(declared: str, extracted: Mapping[Any, Any]) -> tuple[str, ...]:
    """Undo the writer's ``A AND LicenseRef-b``: top-level AND parts, refs back to names."""
    parts = [declared] if "(" in declared else declared.split(" AND ")
    out = []
    for part in parts:
        name = extracted.get(part.strip())
        out.append(name if isinstance(name, str) and name else part.strip())
    return tuple(out)


# --- imagetrust JSON -------------------------------------------------------------------------


def _from_imagetrust(doc: Mapping[str, Any]) -> Catalog:
    os_doc = doc.get("os")
    os_info = None
    if isinstance(os_doc, dict) and os_doc.get("id"):
        os_info = OSInfo(
            id=os_doc["id"], version_id=os_doc.get("version_id"),
            codename=os_doc.get("codename"), pretty_name=os_doc.get("pretty_name"),
            point_release=os_doc.get("point_release"),
            id_like=tuple(os_doc.get("id_like") or ()),
            distroless=bool(os_doc.get("distroless", False)),
        )
    packages = []
    for item in doc["packages"]:
        locations = tuple(
            Location(loc["path"], int(loc.get("layer_index", -1)), loc.get("layer_diff_id", ""))
            for loc in item.get("locations") or []
        )
        purl = PackageURL.from_string(item["purl"])
        packages.append(Package(
            name=item["name"], version=item["version"], type=item.get("type") or purl.type,
            purl=item["purl"], cataloger=item.get("cataloger") or SBOM_CATALOGER,
            locations=locations, source_name=item.get("source_name"),
            source_version=item.get("source_version"), architecture=item.get("architecture"),
            epoch=item.get("epoch"), licenses=tuple(item.get("licenses") or ()),
            namespace=item.get("namespace", purl.namespace),
            metadata=dict(item.get("metadata") or {}),
        ))
    skips = tuple(CatalogSkip(s["cataloger"], s["path"], s["reason"])
                  for s in doc.get("skips") or [])
    return Catalog(os=os_info, packages=tuple(packages), skips=skips)


# --- shared ----------------------------------------------------------------------------------


def _package(
    purl_text: str, name: Any, version: Any, licenses: tuple[str, ...],
    props: Mapping[str, str], occurrences: list[str],
) -> Package | CatalogSkip:
    try:
        purl = PackageURL.from_string(purl_text)
    except ValueError as exc:
        return CatalogSkip(SBOM_CATALOGER, str(purl_text), f"invalid purl: {_one_line(exc)}")
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    pkg_version = version if isinstance(version, str) and version else purl.version
    if not pkg_version:
        return CatalogSkip(SBOM_CATALOGER, purl_text, "package has no version")
    pkg_name = name if isinstance(name, str) and name else _purl_name(purl)
    epoch = props.get(P_EPOCH) or qualifiers.get("epoch")
    upstream = qualifiers.get("upstream", "")
    up_name, _, up_version = upstream.partition("@")
    metadata = {k[len(P_METADATA):]: v for k, v in props.items() if k.startswith(P_METADATA)}
    return Package(
        name=pkg_name,
        version=pkg_version,
        type=purl.type,
        purl=purl_text,
        cataloger=props.get(P_CATALOGER) or SBOM_CATALOGER,
        locations=_locations(props, occurrences),
        source_name=props.get(P_SOURCE_NAME) or props.get("aquasecurity:trivy:SrcName")
        or up_name or None,
        source_version=props.get(P_SOURCE_VERSION)
        or props.get("aquasecurity:trivy:SrcVersion") or up_version or None,
        architecture=props.get(P_ARCHITECTURE) or qualifiers.get("arch"),
        epoch=int(epoch) if epoch and epoch.isdigit() else None,
        licenses=licenses,
        namespace=purl.namespace,
        metadata=metadata,
    )


def _purl_name(purl: PackageURL) -> str:
    if purl.type in ("npm", "golang") and purl.namespace:
        return f"{purl.namespace}/{purl.name}"
    return str(purl.name)


def _locations(props: Mapping[str, str], occurrences: list[str]) -> tuple[Location, ...]:
    out: list[Location] = []
    i = 0
    while location_keys(i)[0] in props:
        k_path, k_diff, k_index = location_keys(i)
        index = props.get(k_index, "")
        out.append(Location(props[k_path], int(index) if index.lstrip("-").isdigit() else -1,
                            props.get(k_diff, "")))
        i += 1
    if out:
        return tuple(out)
    # Syft's own vocabulary, then CycloneDX evidence; the layer is unknown (-1) without ours.
    i = 0
    while f"syft:location:{i}:path" in props:
        out.append(Location(props[f"syft:location:{i}:path"].lstrip("/"), -1,
                            props.get(f"syft:location:{i}:layerID", "")))
        i += 1
    if not out:
        out = [Location(path.lstrip("/"), -1, "") for path in occurrences]
    return tuple(out)


def _os_from(name: Any, version: Any, description: Any, props: Mapping[str, str]) -> OSInfo | None:
    if not isinstance(name, str) or not name:
        return None
    id_like = props.get(P_OS_ID_LIKE, "")
    version_id = version if isinstance(version, str) and version else None
    point_release = props.get(P_OS_POINT_RELEASE)
    if name.lower() == "debian" and version_id and "." in version_id:
        # Trivy writes Debian's point release (12.11); os-release's VERSION_ID is "12".
        point_release = point_release or version_id
        version_id = version_id.split(".", 1)[0]
    return OSInfo(
        id=name.lower(),
        version_id=version_id,
        codename=props.get(P_OS_CODENAME),
        pretty_name=description if isinstance(description, str) and description else None,
        point_release=point_release,
        id_like=tuple(id_like.split()),
        distroless=props.get(P_OS_DISTROLESS) == "true",
    )


def _os_from_purls(packages: Iterable[Package]) -> OSInfo | None:
    """No OS component: the ``distro`` qualifier of deb/apk/rpm purls (``debian-12``)."""
    for pkg in packages:
        if pkg.type not in ("deb", "apk", "rpm"):
            continue
        qualifiers = PackageURL.from_string(pkg.purl).qualifiers
        distro = qualifiers.get("distro") if isinstance(qualifiers, dict) else None
        if distro:
            os_id, _, version = distro.partition("-")
            if not version and pkg.namespace:  # distro=bookworm (purl-spec's Debian example)
                return OSInfo(id=pkg.namespace.lower(), version_id=None, codename=distro,
                              pretty_name=None)
            return _os_from(os_id, version or None, None, {})
    return None
