"""Feed mirrors for scan tests, built from REAL records of the shared test data.

The shared Debian tracker fixtures describe packages (apparmor, sope, chromium) that the fixture
images do not contain.  To get findings on those images, whole real release entries are re-keyed:
an entry keeps its CVE id, status, urgency and fixed version byte for byte, but is filed under a
source package the image has (and, for the end-of-life case, under ``bookworm`` instead of
``buster``).  OSV records are re-keyed the same way: only ``affected[].package.name`` changes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.match.conftest import zip_records


def _tracker(data: Path, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((data / "debian" / name).read_text(encoding="utf-8"))
    return doc


def tracker_entry(data: Path, package: str, cve: str, release: str) -> dict[str, Any]:
    for name in ("osvdev-debian_security_tracker_mock.json", "vunnel-debian-tracker-fixture.json"):
        doc = _tracker(data, name)
        if package in doc and cve in doc[package]:
            entry: dict[str, Any] = doc[package][cve]["releases"][release]
            return entry
    raise KeyError((package, cve, release))


# (source package in the image, CVE, (real package, real release)) — see the module docstring
REKEYED: list[tuple[str, str, tuple[str, str]]] = [
    ("glibc", "CVE-2016-1585", ("apparmor", "bookworm")),  # open, unimportant
    ("jq", "CVE-2025-53603", ("sope", "bookworm")),  # resolved 5.8.0-1+deb12u1
    ("zlib", "CVE-2014-1424", ("apparmor", "bookworm")),  # resolved 0: not affected
    ("bash", "CVE-2017-6507", ("apparmor", "bookworm")),  # resolved 2.11.0-3
    ("libzstd", "CVE-2017-6507", ("apparmor", "bookworm")),  # resolved 2.11.0-3, no urgency
    ("util-linux", "CVE-2022-0456", ("chromium", "buster")),  # open, end-of-life
]


def rekeyed_tracker(data: Path) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for target, cve, (real, release) in REKEYED:
        entry = tracker_entry(data, real, cve, release)
        doc.setdefault(target, {})[cve] = {"releases": {"bookworm": entry}}
    return doc


def rekey_osv(record: Path, new_name: str, out_dir: Path) -> Path:
    doc = json.loads(record.read_text(encoding="utf-8"))
    for affected in doc["affected"]:
        affected["package"]["name"] = new_name
    out = out_dir / record.name
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


# (OSV record under osv/records, name in the polyglot image)
OSV_REKEYED = [
    ("PyPI/GHSA-p44j-xrqg-4xrr.json", "urllib3"),  # introduced 0, fixed 2.6.1
    ("npm/GHSA-f89g-whpf-6q9m.json", "minimist"),  # SEMVER introduced 0, fixed 1.10.3
    ("npm/GHSA-mhpp-875w-9cpv.json", "lodash"),  # SEMVER 2.1.1-0 .. 3.0.0
]


def scan_mirror(root: Path, data: Path) -> Path:
    """Rewrite a ``mirror`` fixture in place: re-keyed tracker, NVD API dir, re-keyed OSV."""
    (root / "tracker/data/json").write_text(json.dumps(rekeyed_tracker(data)), encoding="utf-8")
    nvd = root / "nvd"
    nvd.mkdir(exist_ok=True)
    for record in (data / "nvd/api2.0/osvdev-nvdcve-2.0").glob("*.json"):
        shutil.copy(record, nvd / record.name)
    work = root.parent / "osv-rekeyed"
    for eco in ("PyPI", "npm"):
        (work / eco).mkdir(parents=True, exist_ok=True)
    for rel, name in OSV_REKEYED:
        rekey_osv(data / "osv/records" / rel, name, work / rel.split("/")[0])
    for eco in ("PyPI", "npm"):
        records = sorted((data / "osv/records" / eco).glob("*.json"))
        changed = {p.name: p for p in (work / eco).glob("*.json")}
        zip_records([changed.get(r.name, r) for r in records], root / "osv" / eco / "all.zip")
    for eco in ("Go", "Maven", "crates.io", "RubyGems"):
        zip_records(sorted((data / "osv/records" / eco).glob("*.json")),
                    root / "osv" / eco / "all.zip")
    return root
