"""``catalog update`` refreshes the release lifecycles from an endoflife.date-style API served
on loopback, and the verdict follows the refreshed dates; a broken source keeps the shipped
ones."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import date
from pathlib import Path

import pytest

from imagetrust.assess.lifecycle import os_release, shipped_data
from imagetrust.catalog.model import OSInfo
from imagetrust.cli.main import main
from tests.source.hostile_http import reply, serve

TODAY = date(2026, 12, 2)


def official_images_tarball(library: Path) -> bytes:
    """The real library files packed as GitHub serves the repository (one top directory)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": "0" * 40}) as tar:
        for path in sorted(library.iterdir()):
            tar.add(path, arcname=f"official-images-master/library/{path.name}")
    return buffer.getvalue()


def api_cycles(product: str) -> list[dict[str, object]]:
    """The shipped snapshot of ``product`` written as endoflife.date's API answers it."""
    entry = shipped_data()["products"][product]
    return [
        {"cycle": r["cycle"], "codename": r["codename"], "releaseDate": r["released"],
         "eol": r["eol"], "extendedSupport": r["eoes"], "lts": r["lts"], "latest": r["latest"]}
        for r in entry["releases"]
    ]


def test_catalog_update_refreshes_lifecycles(
    test_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    debian = api_cycles("debian")
    for cycle in debian:  # Debian announces (in this test) that bookworm's LTS ended early
        if cycle["cycle"] == "12":
            cycle["extendedSupport"] = "2026-11-30"
    body = json.dumps(debian).encode()
    library = official_images_tarball(test_data / "official-images" / "library")
    routes = {
        "/api/debian.json": lambda handler: reply(handler, 200, body),
        "/official-images.tar.gz": lambda handler: reply(handler, 200, library),
    }
    with serve(routes) as server:
        monkeypatch.setenv("IMAGETRUST_LIFECYCLE_URL", f"{server.url}/api")
        before = os_release(OSInfo("debian", "12", None, None), TODAY)
        assert before is not None and not before.ended
        monkeypatch.setenv("IMAGETRUST_CATALOG_URL", f"{server.url}/official-images.tar.gz")
        code = main(["catalog", "update"])
    out, err = capsys.readouterr()
    assert "release lifecycles refreshed: 1 products" in out
    assert "kept the shipped dates of ubuntu" in err  # the mirror only serves debian
    refreshed = os_release(OSInfo("debian", "12", None, None), TODAY)
    assert refreshed is not None and refreshed.ended
    assert refreshed.security_until == date(2026, 11, 30)
    assert code == 0, err


def test_unreachable_source_keeps_shipped_dates(capsys: pytest.CaptureFixture[str]) -> None:
    from imagetrust.assess.lifecycle_update import update_lifecycles
    from imagetrust.errors import NetworkError

    with pytest.raises(NetworkError, match="no release lifecycle could be fetched"):
        update_lifecycles(Path("/nonexistent-cache"), "http://127.0.0.1:9/api")
    found = os_release(OSInfo("debian", "10", None, None), TODAY)
    assert found is not None and found.ended
