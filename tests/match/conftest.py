"""A feed mirror built from the real shared test data, laid out like the upstream servers."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from pathlib import Path

import pytest

FEEDS = ["debian-tracker", "alpine-secdb/v3.11", "alpine-secdb/v3.12", "osv/PyPI", "osv/npm",
         "osv/Ubuntu", "kev", "epss"]


def zip_records(records: list[Path], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.write(record, json.loads(record.read_bytes())["id"] + ".json")
    return out


@pytest.fixture
def mirror(tmp_path: Path, test_data: Path) -> Path:
    root = tmp_path / "mirror"
    (root / "tracker/data").mkdir(parents=True)
    shutil.copy(test_data / "debian/vunnel-debian-tracker-fixture.json", root / "tracker/data/json")
    secdb = test_data / "alpine/secdb-json-vuln-list-update"
    for rel, prefix in (("v3.11", "311"), ("v3.12", "312")):
        (root / "alpine" / rel).mkdir(parents=True)
        for repo in ("main", "community"):
            shutil.copy(secdb / f"{prefix}-{repo}.json", root / "alpine" / rel / f"{repo}.json")
    for eco in ("PyPI", "npm"):
        zip_records(sorted((test_data / "osv/records" / eco).glob("*.json")),
                    root / "osv" / eco / "all.zip")
    zip_records(sorted((test_data / "ubuntu").glob("*.json")), root / "osv/Ubuntu/all.zip")
    (root / "kev").mkdir()
    shutil.copy(test_data / "nvd/kev/known_exploited_vulnerabilities.json", root / "kev")
    (root / "epss").mkdir()
    csv = (test_data / "nvd/epss/lodestone-epss_scores-current-first61lines.csv").read_bytes()
    (root / "epss/epss_scores-current.csv.gz").write_bytes(gzip.compress(csv))
    return root


def base_urls(url: str) -> dict[str, str]:
    return {
        "debian-tracker": f"{url}/tracker",
        "alpine-secdb": f"{url}/alpine",
        "osv": f"{url}/osv",
        "kev": f"{url}/kev",
        "epss": f"{url}/epss",
    }
