"""Hostile tar structure in offline bundles: a pax header over the walker's cap, a bundle cut
short, members whose names climb out with ``../``. Each is one error line; the installed database
is untouched, no temp file stays behind, and nothing appears outside the database directory.

The bundles are genuine exports re-packed here with tarfile, then damaged at places the tar and
gzip formats define (a member's data, the gzip trailer).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from imagetrust.errors import FeedError
from imagetrust.match.db import VulnDB, export_bundle, import_feed
from imagetrust.tarwalk import HEADER_LIMIT


@pytest.fixture
def exported(tmp_path: Path, test_data: Path) -> tuple[bytes, bytes]:
    """A genuine bundle's manifest and database bytes, read back with tarfile (the oracle)."""
    db = tmp_path / "src" / "v.sqlite"
    import_feed(db, test_data / "nvd/kev/known_exploited_vulnerabilities.json")
    out = export_bundle(db, tmp_path / "src" / "bundle.tar.gz")
    with tarfile.open(out, "r:gz") as tar:
        manifest = tar.extractfile("manifest.json").read()  # type: ignore[union-attr]
        data = tar.extractfile("imagetrust.sqlite").read()  # type: ignore[union-attr]
    return manifest, data


@pytest.fixture
def target(tmp_path: Path, test_data: Path) -> Path:
    db = tmp_path / "here" / "v.sqlite"
    import_feed(db, test_data / "nvd/epss/vunnel-epss-example-1.csv")
    return db


def _raw(members: list[tuple[str, bytes, dict[str, str]]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, pax in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.pax_headers = pax
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _rows(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return sorted((t, *r) for t in ("advisories", "affected", "severities", "kev", "epss",
                                        "feeds", "nvd_fetched")
                      for r in conn.execute(f"SELECT * FROM {t}"))  # type: ignore[misc]
    finally:
        conn.close()


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _refused(tmp_path: Path, target: Path, body: bytes, match: str) -> str:
    bundle = tmp_path / "in" / "b.tar.gz"
    bundle.parent.mkdir(exist_ok=True)
    bundle.write_bytes(body)
    before = _snapshot(tmp_path)
    with pytest.raises(FeedError, match=match) as info:
        import_feed(target, bundle)
    assert _snapshot(tmp_path) == before  # no database change, no temp file, nothing outside
    text = str(info.value)
    assert "\n" not in text and "b.tar.gz" in text
    return text


def test_the_repacked_bundle_installs(tmp_path: Path, exported: tuple[bytes, bytes],
                                      target: Path) -> None:
    manifest, data = exported
    bundle = tmp_path / "ok.tar.gz"
    bundle.write_bytes(gzip.compress(_raw([("manifest.json", manifest, {}),
                                           ("imagetrust.sqlite", data, {})])))
    assert import_feed(target, bundle).bundle
    # the rows are copied into a database imagetrust creates (never the file as is): same rows
    shipped = tmp_path / "shipped.sqlite"
    shipped.write_bytes(data)
    assert hashlib.sha256(data).hexdigest() == json.loads(manifest)["database"]["sha256"]
    assert _rows(target) == _rows(shipped)
    with VulnDB.open(target) as vdb:
        assert "CVE-2025-48384" in vdb.kev(["CVE-2025-48384"])


@pytest.mark.parametrize("where", ["manifest", "database"])
def test_pax_header_over_the_cap_is_refused(tmp_path: Path, exported: tuple[bytes, bytes],
                                            target: Path, where: str) -> None:
    manifest, data = exported
    pad = {"SCHILY.xattr.user.pad": "x" * (HEADER_LIMIT + 1)}
    members = [("manifest.json", manifest, pad if where == "manifest" else {}),
               ("imagetrust.sqlite", data, pad if where == "database" else {})]
    text = _refused(tmp_path, target, gzip.compress(_raw(members)),
                    r"refused|truncated or corrupt")
    assert "a x header claims" in text


def test_truncated_bundle_is_refused(tmp_path: Path, exported: tuple[bytes, bytes],
                                     target: Path) -> None:
    manifest, data = exported
    raw = _raw([("manifest.json", manifest, {}), ("imagetrust.sqlite", data, {})])
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        cut = tar.getmember("imagetrust.sqlite").offset_data + len(data) // 2
    text = _refused(tmp_path, target, gzip.compress(raw[:cut]), "is truncated or corrupt")
    assert "ends inside a member's data" in text
    packed = gzip.compress(raw)
    _refused(tmp_path, target, packed[: len(packed) * 3 // 4], "is truncated or corrupt")


@pytest.mark.parametrize("pax", [False, True])
def test_dotdot_database_member_is_refused(tmp_path: Path, exported: tuple[bytes, bytes],
                                           target: Path, pax: bool) -> None:
    manifest, data = exported
    # the climbing name in the ustar header, or hidden in a pax path behind a harmless one
    member = (("imagetrust.sqlite", data, {"path": "../../imagetrust.sqlite"}) if pax
              else ("../../imagetrust.sqlite", data, {}))
    members = [("manifest.json", manifest, {}), member, ("../../../evil", b"pwned", {})]
    _refused(tmp_path, target, gzip.compress(_raw(members)), "does not follow manifest.json")
