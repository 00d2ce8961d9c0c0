"""The catalog orchestrator: one read for all catalogers, merging, ordering, skips; and the whole
stage on the real fixture images built from Debian packages."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from imagetrust.catalog.apk import ApkCataloger
from imagetrust.catalog.dpkg import DpkgCataloger
from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.osrelease import OS_REQUEST
from imagetrust.catalog.registry import default_catalogers, inventory_key
from imagetrust.catalog.rpm import RpmCataloger
from imagetrust.catalog.run import catalog_files, catalog_image, collect_requests
from imagetrust.catalog.spool import SPOOL_DIR
from imagetrust.errors import CatalogError
from imagetrust.image.files import FileRequest, FileTree, Skip
from tests.support.pkgdb import make_tree

STATUS = (
    b"Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\n"
    b"Version: 1:1.2.13.dfsg-1\n\n"
    b"Package: adduser\nStatus: install ok installed\nArchitecture: all\nVersion: 3.134\n"
)


class _Fixed:
    """A cataloger returning canned results, to observe merging and ordering."""

    def __init__(self, name: str, packages: Sequence[Package], fail: bool = False) -> None:
        self.name = name
        self.packages = packages
        self.fail = fail

    def request(self) -> FileRequest:
        return FileRequest((f"{self.name}/*",))

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        if self.fail:
            raise CatalogError("database locked by a newer format")
        return self.packages, [CatalogSkip(self.name, "x", "one bad record")]


def _pkg(name: str, layer: int, licences: tuple[str, ...] = ()) -> Package:
    return Package(name, "1.0", "pypi", f"pkg:pypi/{name}@1.0", "python",
                   (Location(f"site/{name}-{layer}", layer, f"sha256:{layer}"),), licenses=licences)


def test_catalog_files_merges_sorts_and_keeps_skips() -> None:
    tree = make_tree({"var/lib/dpkg/status": STATUS, "etc/debian_version": b"12.7\n"},
                     skips=(Skip("usr/bin/x", 1, "hard link to a missing file"),))
    fixed = _Fixed("python", [_pkg("zeta", 2), _pkg("alpha", 1, ("MIT",)),
                              _pkg("alpha", 0, ("BSD",))])
    broken = _Fixed("broken", [], fail=True)
    result = catalog_files(tree, [fixed, DpkgCataloger(), broken])
    assert result.os is not None and result.os.codename == "bookworm"
    assert [(p.type, p.name) for p in result.packages] == [
        ("deb", "adduser"), ("deb", "zlib1g"), ("pypi", "alpha"), ("pypi", "zeta")
    ]
    alpha = result.packages[2]
    assert [loc.layer_index for loc in alpha.locations] == [0, 1]
    assert alpha.licenses == ("BSD", "MIT")
    assert alpha.introduced_by is not None and alpha.introduced_by.layer_index == 0
    assert CatalogSkip("reader", "usr/bin/x", "layer 1: hard link to a missing file") in \
        result.skips
    assert CatalogSkip("python", "x", "one bad record") in result.skips
    assert any(s.cataloger == "broken" and "newer format" in s.reason for s in result.skips)
    assert result == catalog_files(tree, [fixed, DpkgCataloger(), broken])  # deterministic


def test_collect_requests_includes_os_and_extra_requests() -> None:
    requests = collect_requests([DpkgCataloger(), ApkCataloger()])
    assert requests[0] == OS_REQUEST
    assert len(requests) == 1 + 3 + 1
    assert any(r.matches("usr/share/doc/libc6/copyright") for r in requests)
    assert any(r.matches("lib/apk/db/installed") for r in requests)


def test_catalog_image_reads_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[Any, ...]] = []

    def read_files(source: Any, image: Any, requests: Sequence[FileRequest], *,
                   cache_dir: Path | None = None, cache_key: str = "") -> FileTree:
        calls.append((source, image, tuple(requests), cache_dir, SPOOL_DIR.get(), cache_key))
        return make_tree({"var/lib/dpkg/status": STATUS})

    fake = types.ModuleType("imagetrust.image.reader")
    fake.read_files = read_files  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "imagetrust.image.reader", fake)
    result = catalog_image("SRC", "IMG", catalogers=[DpkgCataloger()],  # type: ignore[arg-type]
                           cache_dir=tmp_path)
    assert len(calls) == 1
    assert calls[0][0] == "SRC" and calls[0][3] == tmp_path
    assert calls[0][4] == tmp_path / "spool" and SPOOL_DIR.get() is None  # set for the read only
    assert calls[0][5] == inventory_key([DpkgCataloger()])  # the layer cache key's versions
    catalog_image("SRC", "IMG", catalogers=[DpkgCataloger()])  # type: ignore[arg-type]
    assert calls[1][3] is None and calls[1][4] is None  # no cache: nothing set
    assert calls[0][2] == tuple(collect_requests([DpkgCataloger()]))
    assert [p.name for p in result.packages] == ["adduser", "zlib1g"]


def test_default_catalogers() -> None:
    catalogers = default_catalogers()
    assert [type(c) for c in catalogers[:3]] == [DpkgCataloger, ApkCataloger, RpmCataloger]
    names = [c.name for c in catalogers]
    assert len(names) == len(set(names))
    for module, cls in (("imagetrust.catalog.python", "PythonCataloger"),
                        ("imagetrust.catalog.node", "NodeCataloger"),
                        ("imagetrust.catalog.golang", "GoCataloger"),
                        ("imagetrust.catalog.java", "JavaCataloger")):
        try:
            expected = getattr(__import__(module, fromlist=[cls]), cls)
        except ImportError:
            continue
        assert any(isinstance(c, expected) for c in catalogers), cls


@pytest.mark.fixtures
def test_real_app_image(images: Any) -> None:
    """debootstrap base + an apt-installed jq layer: dpkg-query on the unpacked rootfs is the
    oracle for the package list; jq must be attributed to the app layer, libc6 to the base."""
    from imagetrust.image.open import open_image
    from imagetrust.source.oci_layout import OciLayoutSource

    source = OciLayoutSource(images.layout, "app")
    image = open_image(source, reference="app")
    result = catalog_image(source, image, catalogers=[DpkgCataloger(), ApkCataloger(),
                                                      RpmCataloger()])
    out = subprocess.run(
        ["dpkg-query", f"--admindir={images.app_rootfs}/var/lib/dpkg", "-W", "-f",
         "${Package} ${Version}\n"],
        check=True, capture_output=True, text=True,
    ).stdout
    assert sorted(f"{p.name} {p.version}" for p in result.packages) == sorted(out.splitlines())
    assert result.os is not None and (result.os.id, result.os.version_id) == ("debian", "12")
    assert not [s for s in result.skips if s.cataloger != "reader"]
    by_name = {p.name: p for p in result.packages}
    jq, libc = by_name["jq"].introduced_by, by_name["libc6"].introduced_by
    assert jq is not None and libc is not None
    assert (libc.layer_index, libc.diff_id) == (0, image.layers[0].diff_id)
    assert jq.layer_index == len(image.layers) - 1 > 0
    assert jq.diff_id == image.layers[-1].diff_id
    assert by_name["libc6"].licenses  # copyright files were read
