"""imagetrust's own catalog JSON: the documented shape, and readable by read_sbom."""

from __future__ import annotations

import json
from pathlib import Path

from imagetrust.catalog.sbom_input import read_sbom
from imagetrust.report.sbom_json import catalog_json
from tests.report.sample import DIGEST, IMAGE, identity, sample_catalog


def test_shape_and_round_trip(tmp_path: Path) -> None:
    catalog = sample_catalog()
    text = catalog_json(catalog, IMAGE, DIGEST)
    doc = json.loads(text)
    assert doc["image"] == {"reference": IMAGE, "digest": DIGEST}
    assert doc["os"]["id"] == "debian" and doc["os"]["release"] == "bookworm"
    assert len(doc["packages"]) == len(catalog.packages)
    for item, pkg in zip(doc["packages"], catalog.packages, strict=True):
        assert {"name", "version", "type", "purl", "source_name", "source_version", "licenses",
                "locations", "cataloger"} <= set(item)
        assert item["locations"] == [
            {"path": loc.path, "layer_index": loc.layer_index, "layer_diff_id": loc.diff_id}
            for loc in pkg.locations
        ]
        assert (item["name"], item["purl"]) == (pkg.name, pkg.purl)
    assert [s["path"] for s in doc["skips"]] == [s.path for s in catalog.skips]
    path = tmp_path / "catalog.json"
    path.write_text(text)
    back = read_sbom(path)
    assert [identity(p) for p in back.packages] == [identity(p) for p in catalog.packages]
    assert back.os == catalog.os and back.skips == catalog.skips
