"""imagetrust's own JSON listing of a catalog: every field of every package, nothing inferred.

CycloneDX and SPDX are for exchange; this is for scripts (``jq``) and for diffing two scans, so
keys are plain snake_case, order is stable and every skip is listed.
"""

from __future__ import annotations

from typing import Any

from imagetrust.catalog.model import Catalog, CatalogSkip, OSInfo, Package
from imagetrust.jsonutil import dumps

FORMAT = "imagetrust-catalog/1"


def catalog_json(catalog: Catalog, image: str, digest: str | None = None) -> str:
    return dumps(catalog_document(catalog, image, digest), ensure_ascii=False) + "\n"


def catalog_document(catalog: Catalog, image: str, digest: str | None = None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "image": {"reference": image, "digest": digest},
        "os": _os(catalog.os),
        "packages": [_package(p) for p in catalog.packages],
        "skips": [_skip(s) for s in catalog.skips],
    }


def _os(os_info: OSInfo | None) -> dict[str, Any] | None:
    if os_info is None:
        return None
    return {
        "id": os_info.id,
        "version_id": os_info.version_id,
        "codename": os_info.codename,
        "pretty_name": os_info.pretty_name,
        "point_release": os_info.point_release,
        "id_like": list(os_info.id_like),
        "distroless": os_info.distroless,
        "release": os_info.release,
    }


def _package(pkg: Package) -> dict[str, Any]:
    return {
        "name": pkg.name,
        "version": pkg.version,
        "type": pkg.type,
        "purl": pkg.purl,
        "namespace": pkg.namespace,
        "source_name": pkg.source_name,
        "source_version": pkg.source_version,
        "architecture": pkg.architecture,
        "epoch": pkg.epoch,
        "licenses": list(pkg.licenses),
        "locations": [
            {"path": loc.path, "layer_index": loc.layer_index, "layer_diff_id": loc.diff_id}
            for loc in pkg.locations
        ],
        "cataloger": pkg.cataloger,
        "metadata": dict(pkg.metadata),
    }


def _skip(skip: CatalogSkip) -> dict[str, str]:
    return {"cataloger": skip.cataloger, "path": skip.path, "reason": skip.reason}
