"""Photon OS CVE metadata (``cve_data_photon<release>.json``), one file per release.

Each entry names a CVE, a Photon package (the spec, i.e. the source rpm name) and ``res_ver``, the
first fixed version-release: ``all versions before res_ver are vulnerable``.  ``status: Not
Affected`` (with ``res_ver: NA``) means Photon's build is not affected; ``res_ver: NA`` otherwise
means affected with no fix yet.  The release is not inside the document, only in its name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import feed_error, load_json, text
from imagetrust.match.feeds.model import AffectedRow, FeedData, FeedUnit

FEED = "photon-cve"
DEFAULT_BASE_URL = "https://packages.vmware.com/photon/photon_cve_metadata"
DEFAULT_RELEASES = ("3.0", "4.0", "5.0")
_FILE_RELEASE = re.compile(r"cve_data_photon(\d+(?:\.\d+)?)\.json")
_NO_VERSION = ("", "NA", "N/A")


def release(selector: str) -> str:
    """``5`` → ``5.0``; ``3.0`` stays (os-release VERSION_ID and the file names use ``X.0``)."""
    rel = selector.strip()
    return rel if "." in rel else f"{rel}.0"


def ecosystem(rel: str) -> str:
    return f"photon:{release(rel)}"


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    base = base_url.rstrip("/")
    releases = [release(s) for s in selectors] or list(DEFAULT_RELEASES)
    return [
        FeedUnit(FEED, f"{FEED}/{rel}", f"{base}/cve_data_photon{rel}.json") for rel in releases
    ]


def looks_like(doc: object) -> bool:
    """A non-empty list of entries with ``cve_id``, ``pkg`` and ``res_ver``."""
    return (
        isinstance(doc, list)
        and bool(doc)
        and all(isinstance(e, dict) and {"cve_id", "pkg", "res_ver"} <= e.keys() for e in doc)
    )


def release_of_name(name: str) -> str | None:
    """``…/cve_data_photon3.0.json`` → ``3.0``; None when the upstream name was not kept."""
    match = _FILE_RELEASE.search(name)
    return release(match.group(1)) if match else None


def parse_bytes(data: bytes, source: str | None = None) -> FeedData:
    label = source or FEED
    rel = label.rpartition("/")[2] if label.startswith(f"{FEED}/") else release_of_name(label)
    if not rel:
        raise feed_error(label, "cannot tell the Photon release")
    return parse(load_json(data, label), rel)


def parse(doc: Any, rel: str) -> FeedData:
    source = f"{FEED}/{release(rel)}"
    if not isinstance(doc, list):
        raise feed_error(source, "expected a JSON array of CVE entries")
    eco = ecosystem(rel)
    affected: list[AffectedRow] = []
    for entry in doc:
        if not isinstance(entry, dict):
            raise feed_error(source, "an entry is not an object")
        cve, pkg = text(entry.get("cve_id")), text(entry.get("pkg"))
        if not cve or not pkg:
            raise feed_error(source, "an entry lacks cve_id or pkg")
        status = text(entry.get("status"))
        fixed = text(entry.get("res_ver"))
        if fixed is not None and fixed.strip().upper() in _NO_VERSION:
            fixed = None
        if (status or "").strip().lower() == "not affected":
            state = "not-affected"
        else:
            state = "fixed" if fixed else "affected"
        affected.append(AffectedRow(
            eco, pkg, cve, state, fixed, None, None, None, None, None, None,
        ))
    return FeedData(feed=FEED, source=source, record_count=len(affected), affected=affected)
