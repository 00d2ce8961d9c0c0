"""``imagetrust cves --only-base / --ignore-base / --source``: findings split by the layer that
added each package, on the real app image (debian base layer + an app layer with jq), with real
findings from re-keyed real feed records (tests/match/scan_feeds.py).

Expectations come from elsewhere than the split itself: the base's findings are those of the
base image scanned on its own, and the app layer holds what ``apt-get install jq`` added (jq and
its Debian dependencies libjq1 and libonig5).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from tests.match import conftest as match_conftest
from tests.match.scan_feeds import scan_mirror
from tests.support.feedserver import FeedServer, serve
from tests.support.images import FixtureImages

mirror = match_conftest.mirror  # the feed-mirror fixture, shared with tests/match
APP_LAYER_PACKAGES = {"jq", "libjq1", "libonig5"}  # jq and its bookworm Depends


@pytest.fixture
def feeds(
    mirror: Path, test_data: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[FeedServer]:
    scan_mirror(mirror, test_data)
    with serve(mirror) as server:
        urls = match_conftest.base_urls(server.url)
        monkeypatch.setenv(
            "IMAGETRUST_FEED_URLS",
            ",".join(f"{k}={v}" for k, v in urls.items()) + f",nvd={server.url}/nvd",
        )
        monkeypatch.setenv("IMAGETRUST_DB", str(tmp_path / "vuln.sqlite"))
        yield server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def findings(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "cves", "--format", "json", "-q", *args)
    assert code == 0, err
    found: list[dict[str, Any]] = json.loads(out)["findings"]
    return found


def keys(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["package"]["name"], f["id"]) for f in items}


def test_only_base_and_ignore_base_split_the_app_image_by_layer(
    images: FixtureImages,
    fixture_registry: Any,
    feeds: FeedServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, _ = fixture_registry
    mirror_flag = ("--registry-mirror", f"docker.io=http://{server.host}")
    app = f"oci-dir:{images.layout}:app"  # keeps the base.name/base.digest annotations
    everything = keys(findings(capsys, app))
    base_alone = keys(findings(capsys, f"oci-dir:{images.layout}:base", "--offline"))

    only_base = keys(findings(capsys, app, "--offline", "--only-base", *mirror_flag))
    ignore_base = keys(findings(capsys, app, "--offline", "--ignore-base", *mirror_flag))

    # The base layer is byte-identical to the base image, so its findings are the base's own.
    assert only_base == base_alone != set()
    # The app layer's findings are those of packages apt-get added, jq among them.
    assert ignore_base and {name for name, _ in ignore_base} <= APP_LAYER_PACKAGES
    assert "jq" in {name for name, _ in ignore_base}
    # Together they are every finding, and no finding is in both.
    assert only_base | ignore_base == everything
    assert not only_base & ignore_base


def test_no_detectable_base_is_one_line_exit_1(
    images: FixtureImages, feeds: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # The base image itself has no base annotation and no official catalog is loaded here, so
    # the layer chain has no candidates: the split cannot be made and must not be guessed.
    code, out, err = run(
        capsys, "cves", f"oci-dir:{images.layout}:base", "--only-base", "--offline", "-q"
    )
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "cannot tell the base image" in lines[0]
    assert "Traceback" not in err

    code, _, err = run(capsys, "cves", "--only-base", "--ignore-base", "debian:12")
    assert code == 1 and "exclude each other" in err


def test_source_option_and_note(
    fixture_registry: Any,
    feeds: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, _ = fixture_registry
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    mirror_flag = ("--registry-mirror", f"docker.io=http://{server.host}")
    code, out, err = run(capsys, "cves", "--format", "json", "-q", *mirror_flag, "debian:12")
    assert code == 0, err
    assert json.loads(out)["findings"]
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "using the registry" in notes[0]

    code, out, err = run(capsys, "cves", "--source", "registry", "-q", *mirror_flag, "debian:12",
                         "--format", "json", "--offline")
    assert code == 0, err
    assert not [line for line in err.splitlines() if line.startswith("note:")]

    code, out, err = run(capsys, "cves", "--source", "local", "-q", "debian:12")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "no Docker daemon" in err
