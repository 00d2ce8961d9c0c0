"""``imagetrust audit`` against a real podman API service (the session ``world``).

The world's podman holds: debian:12 (the first build) as docker.io/library/debian:12 and
REG/library/debian:12, stale since the rebuild was pushed over the tag; the app image as
REG/myapp:1.0, REG/myapp:1.0-v2s2 (current) and localonly/app:1 (never pushed). The registry
stands in for docker.io (--registry-mirror), the database is built from re-keyed real feed
records first (a warm database; the audit runs --offline), and the official catalog is the real
official-images library from the test data. Expected levels follow docs/trust-levels.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from tests.cli.test_check_scan import PURGED, PURGED_CVE, push_rebuild_without_package
from tests.cli.test_cves_base import feeds, mirror  # noqa: F401 - fixtures
from tests.source.daemon.conftest import DaemonWorld
from tests.support.feedserver import FeedServer
from tests.support.schemas import validate

Run = tuple[int, str, str]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ready(
    world: DaemonWorld,
    feeds: FeedServer,  # noqa: F811
    test_data: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> DaemonWorld:
    """Daemon in DOCKER_HOST, official catalog imported, database warm."""
    monkeypatch.setenv("DOCKER_HOST", world.podman.docker_host)
    code, _, err = run(capsys, "catalog", "import", str(test_data / "official-images"))
    assert code == 0, err
    code, _, err = run(capsys, "db", "update", "--feed", "debian-tracker", "--feed", "kev",
                       "--feed", "epss")
    assert code == 0, err
    return world


def audit(capsys: pytest.CaptureFixture[str], world: DaemonWorld, *args: str) -> dict[str, Any]:
    code, out, err = run(
        capsys, "audit", "--format", "json", "--offline", "-q",
        "--registry-mirror", f"docker.io=http://{world.host}", *args,
    )
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    validate("audit", data)
    return data


def by_reference(data: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {image["reference"]: image for image in data["images"]}


def fixable_ch(image: dict[str, Any]) -> int:
    fixable = image["vulnerabilities"]["fixable"]
    return int(fixable["critical"] + fixable["high"])


def test_audit_judges_every_local_tag(
    ready: DaemonWorld, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    world = ready
    data = audit(capsys, world)
    images = by_reference(data)
    host = world.host
    official = images["docker.io/library/debian:12"]
    assert {
        "docker.io/library/debian:12", f"{host}/library/debian:12", f"{host}/myapp:1.0",
        f"{host}/myapp:1.0-v2s2", "localhost/localonly/app:1",
    } <= set(images)
    assert set(official) >= {
        "reference", "image_id", "repo_digests", "local_created", "publisher", "supported_tag",
        "freshness", "vulnerabilities", "level",
    }
    assert set(official["freshness"]) >= {"status", "registry_digest", "days_behind"}

    # Official and stale: the tag now holds the rebuild.
    assert official["publisher"] == "official"
    assert official["supported_tag"] == "supported"
    assert official["freshness"]["status"] == "behind"
    assert official["freshness"]["registry_digest"] == world.fx.manifest_digest("base-rebuild")
    assert official["image_id"].endswith(world.config_digest("base").split(":")[1])
    # Established publisher: behind (pull diff not computed) and no attestations cap it at
    # trusted-with-caveats unless fixable critical/high findings make it needs-attention.
    assert official["level"] == (
        "needs-attention" if fixable_ch(official) else "trusted-with-caveats"
    )
    assert official["vulnerabilities"]["total"] > 0

    # The same image under the registry's own name: a loopback registry is private.
    mirror_copy = images[f"{host}/library/debian:12"]
    assert mirror_copy["publisher"] == "private"
    assert mirror_copy["freshness"]["status"] == "behind"

    # Pushed and current (the v2s2 tag's digest is one of podman's RepoDigests too).
    for ref in (f"{host}/myapp:1.0", f"{host}/myapp:1.0-v2s2"):
        app = images[ref]
        assert app["freshness"]["status"] == "current", app["freshness"]
        assert app["publisher"] == "private" and app["supported_tag"] == "not-applicable"
        # Not established: starts at unknown; untrusted only with a fixable critical or KEV.
        untrusted = app["vulnerabilities"]["fixable"]["critical"] or app["vulnerabilities"]["kev"]
        assert app["level"] == ("untrusted" if untrusted else "unknown")
    assert images[f"{host}/myapp:1.0-v2s2"]["freshness"]["registry_digest"] == world.v2s2_digest

    # Only local: podman files a short name under localhost/, so there is no registry to ask.
    local_only = images["localhost/localonly/app:1"]
    assert local_only["freshness"]["status"] == "unknown"
    assert local_only["freshness"]["registry_digest"] is None
    assert local_only["publisher"] == "private"
    assert local_only["image_id"] == images[f"{host}/myapp:1.0"]["image_id"]

    # Risk order: lowest level first.
    order = ["untrusted", "needs-attention", "unknown", "trusted-with-caveats", "trusted"]
    ranks = [order.index(image["level"]) for image in data["images"]]
    assert ranks == sorted(ranks)

    # The same level as `check` gives the same local image.
    code, out, err = run(
        capsys, "check", "--format", "json", "--offline", "--source", "local",
        "--registry-mirror", f"docker.io=http://{host}", "debian:12",
    )
    assert code == 0, err
    assert json.loads(out)["level"] == official["level"]


def test_second_audit_reuses_scans_without_exporting(
    ready: DaemonWorld, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = audit(capsys, ready)
    assert first["scanned"] == 2 and first["cached"] == 0  # debian and the app image
    exports = tmp_path / "cache" / "daemon-exports"
    assert len(list(exports.glob("sha256-*.tar"))) == 2
    shutil.rmtree(exports)  # a second audit that exported anything would recreate it

    second = audit(capsys, ready)
    assert second["scanned"] == 0 and second["cached"] == 2
    assert not exports.exists()
    assert [i["vulnerabilities"] for i in second["images"]] == [
        i["vulnerabilities"] for i in first["images"]
    ]
    assert [i["level"] for i in second["images"]] == [i["level"] for i in first["images"]]


def test_filter_table_and_exit_code(ready: DaemonWorld, capsys: pytest.CaptureFixture[str]) -> None:
    world = ready
    full = by_reference(audit(capsys, world, "--filter", "docker.io/library/*"))
    assert set(full) == {"docker.io/library/debian:12"}
    short = by_reference(audit(capsys, world, "--filter", "debian:*", "--no-scan"))
    assert set(short) == {"docker.io/library/debian:12"}
    assert short["docker.io/library/debian:12"]["vulnerabilities"] is None

    base = ["audit", "--offline", "-q", "--registry-mirror", f"docker.io=http://{world.host}",
            "--filter", "debian:*"]
    code, out, err = run(capsys, *base, "--exit-code", "--min-level", "trusted")
    assert code == 2 and "below --min-level trusted" in err
    assert "docker.io/library/debian:12" in out and "behind" in out  # the table
    code, _, err = run(capsys, *base, "--exit-code", "--min-level", "untrusted")
    assert code == 0, err


def test_what_pulling_fixes(
    ready: DaemonWorld, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A tag whose current image purged a package with a finding: pulling fixes that finding."""
    world = ready
    name = f"{world.host}/audit-w5/debian:12"
    push_rebuild_without_package(world.fx, world.registry, tmp_path / "rebuild",
                                 dest="audit-w5/debian:12")
    world.podman.tag(f"{world.host}/library/debian:12", name)
    try:
        data = audit(capsys, world, "--filter", "*/audit-w5/*", "--what-pulling-fixes")
    finally:
        world.podman.podman("untag", f"{world.host}/library/debian:12", name)
    [image] = data["images"]
    assert image["freshness"]["status"] == "behind"
    pulled = image["what_pulling_fixes"]
    assert PURGED_CVE in pulled["fixed_ids"] and pulled["introduced"] == 0
    assert {"id": PURGED_CVE, "package": PURGED} in [
        {"id": f["id"], "package": f["package"]} for f in pulled["fixed_findings"]
    ]
    # Private publisher starts at unknown; behind-with-fixes lowers it to needs-attention
    # (untrusted only if a fixable critical or KEV finding applies to an unestablished one).
    vulns = image["vulnerabilities"]
    if vulns["fixable"]["critical"] or vulns["kev"]:
        assert image["level"] == "untrusted"
    else:
        assert image["level"] == "needs-attention"
        assert "behind-with-fixes" in image["rules"]
        assert any(f"pulling would fix {pulled['fixed']} vulnerabilities" in r
                   for r in image["reasons"])


def test_no_daemon_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    code, out, err = run(capsys, "audit", "--no-scan")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "audit needs a Docker daemon" in lines[0]
