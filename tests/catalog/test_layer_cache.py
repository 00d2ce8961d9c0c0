"""Per-layer catalog cache: an image on a cached base re-reads only its own layers.

Layer reads are observed by wrapping the source's ``open_blob`` (the only way the reader reaches
layer bytes); which layers belong to the app alone comes from the fixture's own manifest and
config, not from imagetrust.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO

import pytest

from imagetrust.api import open_image
from imagetrust.catalog.model import Catalog
from imagetrust.catalog.run import catalog_image
from imagetrust.config import load_settings
from imagetrust.image.model import Descriptor, RawManifest
from imagetrust.source.interface import ImageSource
from tests.support.images import FixtureImages


class CountingSource:
    """Delegates to a real source and records the digest of every blob opened as a stream."""

    def __init__(self, inner: ImageSource) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.opened: list[str] = []

    def root(self) -> RawManifest:
        return self.inner.root()

    def manifest(self, descriptor: Descriptor) -> RawManifest:
        return self.inner.manifest(descriptor)

    def blob(self, descriptor: Descriptor) -> bytes:
        return self.inner.blob(descriptor)

    def open_blob(self, descriptor: Descriptor) -> AbstractContextManager[BinaryIO]:
        self.opened.append(descriptor.digest)
        return self.inner.open_blob(descriptor)

    def repo_tags(self) -> tuple[str, ...]:
        return self.inner.repo_tags()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.inner.close()


@contextmanager
def scan(target: str, cache: Path | None, tmp_path: Path) -> Iterator[tuple[Catalog, list[str]]]:
    settings = load_settings(cache_dir=tmp_path / "blob-cache")
    with open_image(target, settings=settings) as opened:
        counting = CountingSource(opened.source)
        result = catalog_image(counting, opened.image, cache_dir=cache)  # type: ignore[arg-type]
        yield result, counting.opened


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
