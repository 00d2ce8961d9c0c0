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
    _photon_wolfi_mirror(root)
    return root


def _photon_wolfi_mirror(root: Path) -> None:
    """Real samples (tests/data/feeds) where upstream lays them out; Photon releases without a
    sample are served as an empty list, the shape of a release with no entries."""
    samples = Path(__file__).resolve().parents[1] / "data" / "feeds"
    photon = root / "photon-cve"
    photon.mkdir()
    for release in ("1.0", "2.0", "3.0"):
        name = f"cve_data_photon{release}.json"
        shutil.copy(samples / "photon" / name, photon / name)
    for release in ("4.0", "5.0"):
        (photon / f"cve_data_photon{release}.json").write_text("[]")
    for feed, path, sample in (("wolfi-secdb", "os", "wolfi-security.json"),
                               ("chainguard-secdb", "chainguard", "chainguard-security.json")):
        (root / feed / path).mkdir(parents=True)
        shutil.copy(samples / "wolfi" / sample, root / feed / path / "security.json")


def base_urls(url: str) -> dict[str, str]:
    return {
        "debian-tracker": f"{url}/tracker",
        "alpine-secdb": f"{url}/alpine",
        "osv": f"{url}/osv",
        "kev": f"{url}/kev",
        "epss": f"{url}/epss",
        "photon-cve": f"{url}/photon-cve",
        "wolfi-secdb": f"{url}/wolfi-secdb",
        "chainguard-secdb": f"{url}/chainguard-secdb",
    }
