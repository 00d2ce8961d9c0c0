"""PythonCataloger against real installed distributions, with importlib.metadata as the oracle."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
from packageurl import PackageURL

from imagetrust.catalog.python import PythonCataloger
from imagetrust.image.files import FileTree
from tests.catalog.lang_tree import diff_id_for, file_entry, tree_from_dirs

VENV_SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
VENV_SITE = VENV_SITE / "site-packages"
DEBIAN_DIST = Path("/usr/lib/python3/dist-packages")
PY27_LIB = Path("/root/.pyenv/versions/2.7.18/lib/python2.7")


def _oracle(path: Path) -> set[tuple[str, str]]:
    return {
        (d.metadata["Name"], d.version)
        for d in importlib.metadata.distributions(path=[str(path)])
    }


def test_venv_site_packages_match_importlib_metadata() -> None:
    cataloger = PythonCataloger()
    prefix = "usr/local/lib/python3.11/site-packages"
    tree = tree_from_dirs(cataloger.request(), [(prefix, VENV_SITE)])
    packages, skips = cataloger.catalog(tree, None)

    expected = _oracle(VENV_SITE)
    assert len(expected) > 20
    assert {(p.name, p.version) for p in packages} == expected
    assert skips == []
    for pkg in packages:
        assert pkg.type == "pypi" and pkg.cataloger == "python"
        (loc,) = pkg.locations
        assert loc.path.startswith(prefix + "/") and loc.path.endswith("/METADATA")
        assert loc.diff_id == diff_id_for(0)
        # PEP 503 name normalisation in the purl, checked with an independent regex.
        purl = PackageURL.from_string(pkg.purl)
        assert purl.type == "pypi"
        assert purl.name == re.sub(r"[-_.]+", "-", pkg.name).lower()
        assert purl.version == pkg.version


def test_license_expression_and_classifiers_from_real_metadata() -> None:
    cataloger = PythonCataloger()
    tree = tree_from_dirs(cataloger.request(), [("site", VENV_SITE)])
    by_name = {p.name: p for p in cataloger.catalog(tree, None)[0]}
    meta = importlib.metadata.distribution("packaging").metadata
    assert meta["License-Expression"]
    assert by_name["packaging"].licenses == (meta["License-Expression"],)
    # pytest declares "License :: OSI Approved :: MIT License" or a License-Expression: MIT.
    pytest_meta = importlib.metadata.distribution("pytest").metadata
    pytest_licenses = by_name["pytest"].licenses
    if pytest_meta["License-Expression"]:
        assert pytest_licenses == (pytest_meta["License-Expression"],)
    else:
        assert "MIT" in " ".join(pytest_licenses)


@pytest.mark.skipif(not DEBIAN_DIST.is_dir(), reason="Debian python3 dist-packages not present")
def test_debian_dist_packages_with_egg_info_directories() -> None:
    cataloger = PythonCataloger()
    tree = tree_from_dirs(cataloger.request(), [("usr/lib/python3/dist-packages", DEBIAN_DIST)])
    packages, skips = cataloger.catalog(tree, None)
    got = {(p.name, p.version) for p in packages}
    assert got == _oracle(DEBIAN_DIST)
    assert any(p.locations[0].path.endswith(".egg-info/PKG-INFO") for p in packages)
    assert skips == []


@pytest.mark.skipif(not PY27_LIB.is_dir(), reason="pyenv Python 2.7 not present")
def test_egg_info_as_a_single_file() -> None:
    real = PY27_LIB / "wsgiref.egg-info"
    assert real.is_file()
    cataloger = PythonCataloger()
    path = "usr/lib/python2.7/wsgiref.egg-info"
    tree = FileTree(files={path: file_entry(path, real.read_bytes())})
    (pkg,), skips = cataloger.catalog(tree, None)
    assert ("wsgiref", "0.1.2") in _oracle(PY27_LIB)
    assert (pkg.name, pkg.version) == ("wsgiref", "0.1.2")
    assert pkg.purl == "pkg:pypi/wsgiref@0.1.2"
    assert skips == []


def test_later_layer_location_and_broken_metadata_is_skipped(tmp_path: Path) -> None:
    cataloger = PythonCataloger()
    real = importlib.metadata.distribution("packaging")
    metadata = Path(str(real.locate_file(""))) / f"packaging-{real.version}.dist-info/METADATA"
    good = "app/lib/packaging-x.dist-info/METADATA"
    bad = "app/lib/broken-1.0.dist-info/METADATA"
    tree = FileTree(
        files={
            good: file_entry(good, metadata.read_bytes(), layer_index=3),
            bad: file_entry(bad, b"Summary: no name or version here\n", layer_index=1),
        }
    )
    packages, skips = cataloger.catalog(tree, None)
    assert [(p.name, p.version) for p in packages] == [("packaging", real.version)]
    assert packages[0].locations[0].layer_index == 3
    assert packages[0].locations[0].diff_id == diff_id_for(3)
    assert [(s.path, s.cataloger) for s in skips] == [(bad, "python")]
    assert "Name" in skips[0].reason


def test_request_globs_select_only_metadata_files() -> None:
    request = PythonCataloger().request()
    assert request.matches("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA")
    assert request.matches("opt/venv/lib/python3.12/site-packages/x.egg-info/PKG-INFO")
    assert request.matches("usr/lib/python2.7/wsgiref.egg-info")
    assert not request.matches("usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD")
