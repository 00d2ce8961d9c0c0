"""dpkg databases with odd bytes, a BOM or a symlinked ``status``, each checked against what the
real ``dpkg-query --admindir`` reports about the same database (never against our own output).

The symlink cases go through the real layer reader on OCI layouts written here, so the whole
path is exercised: the reader records the link, the catalog stage reads its target in a second
pass, and the cataloger parses it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from imagetrust.catalog.dpkg import DpkgCataloger
from imagetrust.catalog.run import catalog_image
from imagetrust.image.open import open_image
from imagetrust.source.oci_layout import OciLayoutSource
from tests.support.pkgdb import make_tree
from tests.support.synthetic import build_image, file, layer_tar, symlink, write_layout

pytestmark = pytest.mark.skipif(shutil.which("dpkg-query") is None,
                                reason="dpkg-query is the oracle and is not installed")

STATUS = "var/lib/dpkg/status"
# Characters str.splitlines() treats as line ends but dpkg does not.
SEPARATORS = {"ff": "\x0c", "vt": "\x0b", "fs": "\x1c", "gs": "\x1d", "rs": "\x1e",
              "nel": "\x85", "ls": "\u2028", "ps": "\u2029"}


def _stanza(name: str, version: str, description: str) -> str:
    return (f"Package: {name}\nStatus: install ok installed\nPriority: optional\n"
            f"Maintainer: T <t@example.org>\nArchitecture: amd64\n"
            f"Description: {description}\nVersion: {version}\n")


def hostile_status() -> bytes:
    """Per separator: a description that would inject ``Version: 9.9`` before the real one, and
    one that would end the stanza early and start a ghost package."""
    stanzas = []
    for i, (key, sep) in enumerate(SEPARATORS.items()):
        stanzas.append(_stanza(f"inject-{key}", f"1.{i}", f"short{sep}Version: 9.9{sep}"))
        ghost = f"x{sep}{sep}Package: ghost-{key}{sep}Status: install ok installed{sep}"
        ghost += f"Version: 6.6{sep}Architecture: amd64"
        stanzas.append(_stanza(f"split-{key}", f"2.{i}", ghost))
        # A continuation line ending in the separator; a line of only \v or \f is, for dpkg,
        # a blank line inside the value (others on a line of their own make dpkg give up).
        lone = f"{sep}\n" if sep in "\x0b\x0c" else ""
        stanzas.append(f"Package: line-{key}\nStatus: install ok installed\nVersion: 3.{i}\n"
                       f"Maintainer: T <t@example.org>\nArchitecture: amd64\nDescription: d\n"
                       f" cont{sep}\n{lone} \n\t\nHomepage: https://example.org\n")
    return "\n".join(stanzas).encode()


def dpkg_query(status: bytes, admindir: Path) -> list[tuple[str, str]]:
    admindir.mkdir(parents=True, exist_ok=True)
    (admindir / "updates").mkdir(exist_ok=True)
    (admindir / "status").write_bytes(status)
    out = subprocess.run(["dpkg-query", f"--admindir={admindir}", "-W",
                          "-f=${db:Status-Abbrev}\t${Package}\t${Version}\n"],
                         capture_output=True, text=True, check=True)
    return sorted((name, version) for abbrev, name, version in
                  (line.split("\t") for line in out.stdout.splitlines())
                  if abbrev.startswith("ii"))


def ours(packages: object) -> list[tuple[str, str]]:
    return sorted((p.name, p.version) for p in packages)  # type: ignore[attr-defined]


def test_line_separators_are_not_newlines(tmp_path: Path) -> None:
    status = hostile_status()
    truth = dpkg_query(status, tmp_path / "db")
    packages, skips = DpkgCataloger().catalog(make_tree({STATUS: status}), None)
    assert ours(packages) == truth
    assert skips == []
    assert len(truth) == 3 * len(SEPARATORS)
    assert not any(v == "9.9" or n.startswith("ghost") for n, v in truth)


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    """dpkg-query refuses a status with a BOM; the truth is what it says without the BOM."""
    status = hostile_status()
    truth = dpkg_query(status, tmp_path / "db")
    packages, skips = DpkgCataloger().catalog(make_tree({STATUS: b"\xef\xbb\xbf" + status}), None)
    assert ours(packages) == truth
    assert skips == []


def _catalog_layers(tmp_path: Path, layers: list[bytes]) -> object:
    image = build_image(layers)
    layout = write_layout(tmp_path / "layout", {"x": image.manifest}, image.blobs)
    source = OciLayoutSource(layout)
    return catalog_image(source, open_image(source, reference="x"),
                         catalogers=[DpkgCataloger()])


@pytest.mark.parametrize("target", ["../../../usr/share/dpkg/real-status",
                                    "/usr/share/dpkg/real-status",
                                    "/usr/share/dpkg/hop",
                                    "/../../usr/share/dpkg/real-status"])  # "/.." is "/"
def test_symlinked_status_is_followed(tmp_path: Path, target: str) -> None:
    status = hostile_status()
    truth = dpkg_query(status, tmp_path / "db")
    base = layer_tar([file("usr/share/dpkg/real-status", status),
                      symlink("usr/share/dpkg/hop", "real-status")])
    top = layer_tar([symlink(STATUS, target)])
    catalog = _catalog_layers(tmp_path, [base, top])
    packages = catalog.packages  # type: ignore[attr-defined]
    assert ours(packages) == truth
    assert {loc.path for p in packages for loc in p.locations} == {"usr/share/dpkg/real-status"}
    assert {loc.layer_index for p in packages for loc in p.locations} == {0}


def test_symlinked_parent_directory_of_the_target(tmp_path: Path) -> None:
    status = hostile_status()
    truth = dpkg_query(status, tmp_path / "db")
    layers = [layer_tar([file("srv/db/status", status), symlink("data", "srv")]),
              layer_tar([symlink(STATUS, "/data/db/status")])]
    assert ours(_catalog_layers(tmp_path, layers).packages) == truth  # type: ignore[attr-defined]


@pytest.mark.parametrize("target", ["../../../../../etc/status", "../../../../etc/status"])
def test_symlink_out_of_the_root_is_not_followed(tmp_path: Path, target: str) -> None:
    layers = [layer_tar([file("etc/status", hostile_status())]),
              layer_tar([symlink(STATUS, target)])]
    catalog = _catalog_layers(tmp_path, layers)
    assert catalog.packages == ()  # type: ignore[attr-defined]
    assert any("outside" in s.reason or "leaves" in s.reason
               for s in catalog.skips)  # type: ignore[attr-defined]


def test_symlink_loop_and_dangling_link_are_skips(tmp_path: Path) -> None:
    for name, members in {
        "loop": [symlink(STATUS, "status2"), symlink("var/lib/dpkg/status2", "status")],
        "dangling": [symlink(STATUS, "/nowhere/status")],
    }.items():
        catalog = _catalog_layers(tmp_path / name, [layer_tar(members)])
        assert catalog.packages == ()  # type: ignore[attr-defined]
        reasons = [s.reason for s in catalog.skips]  # type: ignore[attr-defined]
        assert any("loop" in r or "does not exist" in r for r in reasons), reasons
