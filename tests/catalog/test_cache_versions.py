"""Cache keys carry the catalogers' versions: bumping one re-reads the layers, nothing else does.

Layer walks are counted by wrapping the reader's per-layer walk, as in ``test_layer_cache``; the
image is synthetic (two layers, a dpkg status file in each), so the expected walk counts follow
from its shape: every layer on a cold cache or a changed key, none on a warm one.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

import imagetrust
from imagetrust.catalog import registry
from imagetrust.catalog.dpkg import DpkgCataloger
from imagetrust.catalog.model import Catalog
from imagetrust.catalog.run import catalog_image
from imagetrust.image import layercache, reader
from imagetrust.image.open import open_image
from imagetrust.match.matchers import MATCHER_VERSIONS, default_matchers, matching_key
from imagetrust.source.oci_layout import OciLayoutSource
from tests.support.synthetic import build_image, file, layer_tar, write_layout

STATUS = "Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: all\n\n"


def _layout(tmp_path: Path) -> Path:
    base = layer_tar([file("var/lib/dpkg/status", STATUS.format(name="base-files", version="1")),
                      file("etc/os-release", "ID=debian\nVERSION_ID=12\n")])
    app = layer_tar([file("var/lib/dpkg/status",
                          STATUS.format(name="base-files", version="1")
                          + STATUS.format(name="hello", version="2.10-3"))])
    image = build_image([base, app], compression="gzip")
    return write_layout(tmp_path / "layout", {"app": image.manifest}, image.blobs)


def _scan(layout: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Catalog, int]:
    """Catalog with dpkg only; returns the catalog and how many layers were walked."""
    walked: list[str] = []
    original = reader._walk_layer

    def counting(source: Any, layer: Any, *args: Any, **kwargs: Any) -> Any:
        if not args[2:] and kwargs.get("capture") is None:
            walked.append(layer.digest)
        return original(source, layer, *args, **kwargs)

    monkeypatch.setattr(reader, "_walk_layer", counting)
    source = OciLayoutSource(layout)
    try:
        result = catalog_image(source, open_image(source, reference="x"),
                               catalogers=[DpkgCataloger()], cache_dir=cache)
    finally:
        source.close()
    monkeypatch.setattr(reader, "_walk_layer", original)
    return result, len(walked)


def _bump(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    table = dict(registry.CATALOGER_VERSIONS)
    table[name] += 1
    monkeypatch.setattr(registry, "CATALOGER_VERSIONS", MappingProxyType(table))


def test_a_bumped_cataloger_version_invalidates_the_cached_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout, cache = _layout(tmp_path), tmp_path / "cache"
    cold, walks = _scan(layout, cache, monkeypatch)
    assert walks == 2
    assert sorted(p.name for p in cold.packages) == ["base-files", "hello"]

    warm, walks = _scan(layout, cache, monkeypatch)
    assert (warm, walks) == (cold, 0)  # unchanged versions: served from the cache

    _bump(monkeypatch, "java")  # not among this scan's catalogers: its key is the same
    assert _scan(layout, cache, monkeypatch) == (cold, 0)

    _bump(monkeypatch, "dpkg")
    bumped, walks = _scan(layout, cache, monkeypatch)
    assert (bumped, walks) == (cold, 2)  # re-read, not served from the old entries
    assert _scan(layout, cache, monkeypatch) == (cold, 0)  # and cached again under the new key

    _bump(monkeypatch, registry.OS_DETECTION)  # every inventory detects the OS
    assert _scan(layout, cache, monkeypatch) == (cold, 2)

    monkeypatch.setattr(layercache, "READER_VERSION", layercache.READER_VERSION + 1)
    assert _scan(layout, cache, monkeypatch) == (cold, 2)


def test_every_default_cataloger_has_a_version() -> None:
    names = {c.name for c in registry.default_catalogers()} | {registry.OS_DETECTION}
    assert names == set(registry.CATALOGER_VERSIONS)
    assert {m.name for m in default_matchers()} == set(MATCHER_VERSIONS)


def test_inventory_key_names_the_package_reader_and_each_cataloger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = registry.inventory_key()
    fields = dict(part.split("=", 1) for part in key.split(";"))
    assert fields.pop("imagetrust") == imagetrust.__version__
    assert fields.pop("reader") == str(layercache.READER_VERSION)
    assert fields == {name: str(v) for name, v in registry.CATALOGER_VERSIONS.items()}
    assert registry.inventory_key([DpkgCataloger()]) == (
        f"imagetrust={imagetrust.__version__};reader={layercache.READER_VERSION};"
        f"dpkg={registry.CATALOGER_VERSIONS['dpkg']};"
        f"os-release={registry.CATALOGER_VERSIONS['os-release']}"
    )
    seen = {key}
    for name in registry.CATALOGER_VERSIONS:
        _bump(monkeypatch, name)
        seen.add(registry.inventory_key())
    assert len(seen) == len(registry.CATALOGER_VERSIONS) + 1  # every bump changed the key
    monkeypatch.setattr(imagetrust, "__version__", "99.0")
    assert registry.inventory_key() not in seen


def test_matching_key_changes_with_each_matcher_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from imagetrust.match import matchers

    key = matching_key()
    assert key == ";".join([f"imagetrust={imagetrust.__version__}",
                            *sorted(f"{n}={v}" for n, v in MATCHER_VERSIONS.items())])
    seen = {key}
    for name in MATCHER_VERSIONS:
        table = dict(matchers.MATCHER_VERSIONS)
        table[name] += 1
        monkeypatch.setattr(matchers, "MATCHER_VERSIONS", MappingProxyType(table))
        seen.add(matching_key())
    assert len(seen) == len(MATCHER_VERSIONS) + 1


def test_a_cataloger_outside_the_table_brings_its_own_version() -> None:
    class Custom(DpkgCataloger):
        name = "custom"
        version = 7

    assert "custom=7" in registry.inventory_key([Custom()]).split(";")
