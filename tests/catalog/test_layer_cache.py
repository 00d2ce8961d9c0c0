"""Per-layer catalog cache: an image on a cached base re-reads only its own layers.

Layer walks are observed by wrapping the reader's per-layer walk (a cached layer of a local
source is still opened once, to verify its digest, but never walked); which layers belong to the
app alone comes from the fixture's own manifest and config, not from imagetrust.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from imagetrust.api import open_image
from imagetrust.catalog.model import Catalog
from imagetrust.catalog.run import catalog_image
from imagetrust.config import load_settings
from imagetrust.image import reader
from tests.support.images import FixtureImages


@contextmanager
def scan(target: str, cache: Path | None, tmp_path: Path) -> Iterator[tuple[Catalog, list[str]]]:
    """Catalog ``target``; yields the catalog and the digests of the layers walked (in order)."""
    settings = load_settings(cache_dir=tmp_path / "blob-cache")
    walked: list[str] = []
    original = reader._walk_layer

    def counting(source: Any, layer: Any, *args: Any, **kwargs: Any) -> Any:
        if not args[2:] and kwargs.get("capture") is None:  # first passes, not hard-link re-reads
            walked.append(layer.digest)
        return original(source, layer, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch, open_image(target, settings=settings) as opened:
        patch.setattr(reader, "_walk_layer", counting)
        result = catalog_image(opened.source, opened.image, cache_dir=cache)
        yield result, walked


def _forms(images: FixtureImages) -> dict[str, tuple[str, str, list[str], list[str]]]:
    """form → (base target, app target, base layer digests, app layer digests)."""
    layers = {ref: [str(layer["digest"]) for layer in images.manifest(ref)["layers"]]  # type: ignore[union-attr]
              for ref in ("base", "app")}
    diff_ids = {ref: list(images.config(ref)["rootfs"]["diff_ids"])  # type: ignore[index]
                for ref in ("base", "app")}
    return {
        "oci-dir": (f"oci-dir:{images.layout}:base", f"oci-dir:{images.layout}:app",
                    layers["base"], layers["app"]),
        # docker save stores layers uncompressed: their digests are the diff_ids
        "docker-archive": (f"docker-archive:{images.base_archive}",
                           f"docker-archive:{images.app_archive}",
                           diff_ids["base"], diff_ids["app"]),
    }


@pytest.mark.parametrize("form", ["oci-dir", "docker-archive"])
def test_app_after_base_reads_only_its_own_layer(
    form: str, images: FixtureImages, tmp_path: Path
) -> None:
    base_target, app_target, base_layers, app_layers = _forms(images)[form]
    own = [digest for digest in app_layers if digest not in base_layers]
    assert own and len(own) < len(app_layers)  # the fixture shares its base layer
    cache = tmp_path / "layer-cache"

    with scan(base_target, cache, tmp_path) as (_, opened):
        assert opened == base_layers
    with scan(app_target, cache, tmp_path) as (cached, opened):
        assert opened == own
    with scan(app_target, cache, tmp_path) as (again, opened):
        assert opened == []
    with scan(app_target, None, tmp_path) as (uncached, opened):
        assert opened == app_layers

    assert cached == uncached == again
    assert len(uncached.packages) > 50
    # packages of the base layer keep their attribution when served from the cache
    layer_of = {p.name: p.introduced_by.layer_index for p in cached.packages
                if p.introduced_by is not None}
    assert layer_of["bash"] == 0 and layer_of["jq"] == len(app_layers) - 1


def test_cache_files_are_written_per_layer(images: FixtureImages, tmp_path: Path) -> None:
    cache = tmp_path / "layer-cache"
    with scan(f"oci-dir:{images.layout}:app", cache, tmp_path):
        pass
    written = [p for p in cache.rglob("*") if p.is_file()]
    assert len(written) == len(images.manifest("app")["layers"])  # type: ignore[arg-type]
    assert not list(cache.rglob(".tmp-*"))
