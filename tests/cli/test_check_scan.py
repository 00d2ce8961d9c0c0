"""``imagetrust check`` with the real vulnerability scan: "what pulling would fix", end to end.

The scanned image is the first debian build (oci layout ``base``); the tag ``library/debian:12``
in a private registry then gets a rebuild that really differs in packages: ``libzstd1`` purged
with dpkg inside the unpacked root filesystem, repacked with umoci. The feed mirror (real records,
re-keyed, tests/match/scan_feeds.py) files CVE-2017-6507 under source package libzstd with fixed
version 2.11.0-3, newer than bookworm's 1.5.4, so the scanned image has that finding and the
rebuild cannot. Expected level and reason follow docs/trust-levels.md rule ``behind-with-fixes``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from tests.cli.test_cves_base import feeds, mirror  # noqa: F401 - fixtures
from tests.support.feedserver import FeedServer
from tests.support.images import FixtureImages
from tests.support.registry import RegistryServer, start_registry

PURGED = "libzstd1"
PURGED_CVE = "CVE-2017-6507"  # scan_feeds.REKEYED: ("libzstd", "CVE-2017-6507", …)


def sh(*args: str | Path) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr[-800:]}"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RegistryServer]:
    server = start_registry(tmp_path / "registry")
    try:
        yield server
    finally:
        server.stop()


def push_rebuild_without_package(
    images: FixtureImages, registry: RegistryServer, work: Path,
    dest: str = "library/debian:12",
) -> None:
    """``dest`` := base with ``PURGED`` removed by dpkg (a real package-db change)."""
    layout, bundle = work / "layout", work / "bundle"
    work.mkdir(parents=True, exist_ok=True)
    sh("skopeo", "--insecure-policy", "copy", "-q", f"oci:{images.layout}:base",
       f"oci:{layout}:base")
    sh("umoci", "unpack", "--image", f"{layout}:base", bundle)
    sh("chroot", bundle / "rootfs", "dpkg", "--purge", "--force-depends", PURGED)
    status = (bundle / "rootfs/var/lib/dpkg/status").read_text(encoding="utf-8")
    assert f"Package: {PURGED}\n" not in status
    sh("umoci", "repack", "--image", f"{layout}:rebuild", bundle,
       "--history.created_by", f"dpkg --purge {PURGED}")
    sh("skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
       f"oci:{layout}:rebuild", f"docker://{registry.host}/{dest}")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_reports_what_pulling_would_fix(
    images: FixtureImages,
    registry: RegistryServer,
    feeds: FeedServer,  # noqa: F811
    test_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "catalog", "import", str(test_data / "official-images"))
    assert code == 0, err
    push_rebuild_without_package(images, registry, tmp_path / "rebuild")

    code, out, err = run(
        capsys, "check", "--format", "json", "--source", "registry",
        "--registry-mirror", f"docker.io=http://{registry.host}",
        "--tag", "debian:12", f"oci-dir:{images.layout}:base",
    )
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    fresh = next(e for e in data["evidence"] if e["signal"] == "freshness")
    assert fresh["details"]["state"] == "behind"
    pulled = fresh["details"]["pulling_fixes"]
    assert pulled is not None, fresh["details"].get("pulling_fixes_error")
    assert PURGED_CVE in pulled["fixed_ids"]
    assert pulled["fixed"] >= 1 and pulled["introduced"] == 0
    assert data["level"] == "needs-attention"
    assert "behind-with-fixes" in data["rules"]
    sentence = next(r for r in data["reasons"] if "pulling would fix" in r)
    assert "behind its tag" in sentence
    assert f"pulling would fix {pulled['fixed']} vulnerabilities" in sentence

    # The scanned image itself has the finding (it is not an artefact of the diff).
    code, out, err = run(capsys, "cves", "--format", "json", "--offline", "-q",
                         f"oci-dir:{images.layout}:base")
    assert code == 0, err
    assert (PURGED, PURGED_CVE) in {
        (f["package"]["name"], f["id"]) for f in json.loads(out)["findings"]
    }
