"""A 6 MB package.json is real (packages that inline build metadata): it is catalogued, and a
manifest past the cap is a skip with the reason, not a silent loss."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from imagetrust.cli.main import main
from imagetrust.match.db.writer import keep_temp_files_beside


def package(root: Path, name: str, padding: int) -> None:
    where = root / "usr/lib/node_modules" / name
    where.mkdir(parents=True)
    body = {"name": name, "version": "1.2.3", "description": "x" * padding}
    (where / "package.json").write_text(json.dumps(body))


def test_six_megabyte_manifest_is_catalogued(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    package(root, "big-meta", 6 * 1024 * 1024)
    assert main(["sbom", "--format", "json", f"dir:{root}"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(p["name"], p["version"]) for p in data["packages"]] == [("big-meta", "1.2.3")]


def test_sqlite_temporaries_stay_beside_the_database(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    try:
        keep_temp_files_beside(conn, tmp_path)
        assert conn.execute("PRAGMA temp_store_directory").fetchone()[0] == str(tmp_path)
    finally:
        conn.close()
