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
    _suse_mirror(root)
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


def _suse_mirror(root: Path) -> None:
    """The real SUSE OVAL sample gzipped under every default unit's upstream file name (it only
    speaks of SLES 15, so the Leap unit's file holds no row of its release)."""
    from imagetrust.match.feeds import suse_oval

    sample = Path(__file__).resolve().parents[1] / "data/feeds/suse/suse_truncated.xml"
    body = gzip.compress(sample.read_bytes())
    for unit in suse_oval.units("", []):
        target = root / "suse-oval" / unit.url.rsplit("/", 1)[-1]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)


def base_urls(url: str) -> dict[str, str]:
    return {
        "debian-tracker": f"{url}/tracker",
        "alpine-secdb": f"{url}/alpine",
        "osv": f"{url}/osv",
        "kev": f"{url}/kev",
        "epss": f"{url}/epss",
        "redhat-csaf": f"{url}/redhat-csaf",
        "oracle-elsa": f"{url}/oracle-elsa",
        "amazon-alas": f"{url}/amazon-alas",
        "photon-cve": f"{url}/photon-cve",
        "wolfi-secdb": f"{url}/wolfi-secdb",
        "chainguard-secdb": f"{url}/chainguard-secdb",
        "suse-oval": f"{url}/suse-oval",
        "fedora-bodhi": f"{url}/fedora-bodhi",
    }


RPM_SAMPLES = Path(__file__).resolve().parents[1] / "data" / "feeds"


def add_rpm_feed_units(mirror: Path) -> None:
    """Every default unit of the Red Hat family feeds, from the real samples in tests/data/feeds:
    the CSAF documents as one tar.zst, the ELSA OVAL bzip2-compressed under each release's name,
    the ALAS updateinfo of each release, the Bodhi updates as one ``<release>.json`` list each
    (releases without a sample serve an empty list)."""
    import bz2
    import io
    import tarfile

    import zstandard

    from imagetrust.match.feeds import amazon_alas, fedora_bodhi, oracle_elsa, redhat_csaf

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for doc in sorted((RPM_SAMPLES / "redhat").glob("*.json")):
            archive.add(doc, arcname=doc.name)
    target = mirror / "redhat-csaf" / redhat_csaf.ARCHIVE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(zstandard.ZstdCompressor().compress(buffer.getvalue()))
    oval = bz2.compress((RPM_SAMPLES / "oracle/elsa-per-arch.xml").read_bytes())
    for rel in oracle_elsa.DEFAULT_RELEASES:
        (mirror / "oracle-elsa").mkdir(parents=True, exist_ok=True)
        (mirror / "oracle-elsa" / f"com.oracle.elsa-ol{rel}.xml.bz2").write_bytes(oval)
    samples = {"2": "updateinfo_2_items.xml.gz", "2023": "updateinfo_AL2023.xml.gz"}
    for rel, path in amazon_alas.REPOSITORIES.items():
        target = mirror / "amazon-alas" / path / "repodata/updateinfo.xml.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(RPM_SAMPLES / "amazon" / samples[rel], target)
    updates = [json.loads(p.read_bytes()) for p in sorted((RPM_SAMPLES / "fedora").glob("*.json"))]
    (mirror / "fedora-bodhi").mkdir(parents=True, exist_ok=True)
    for rel in fedora_bodhi.DEFAULT_RELEASES:
        mine = [u for u in updates if u["release"]["version"] == rel]
        (mirror / "fedora-bodhi" / f"{rel}.json").write_text(json.dumps(mine))
