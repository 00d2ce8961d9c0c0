"""JavaCataloger against the real jars Debian installs, with ``unzip -p`` as the oracle."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

import imagetrust.catalog.java as java
from imagetrust.catalog.java import JavaCataloger
from imagetrust.image.files import FileTree
from tests.catalog.lang_tree import diff_id_for, file_entry, tree_from_dirs

JAVA_DIR = Path("/usr/share/java")
UNZIP = shutil.which("unzip")
pytestmark = pytest.mark.skipif(
    not JAVA_DIR.is_dir() or UNZIP is None, reason="needs Debian's /usr/share/java and unzip"
)


def unzip_coordinates(jar: Path) -> set[tuple[str, str, str]]:
    """(groupId, artifactId, version) of every pom.properties, read with Info-ZIP's unzip."""
    assert UNZIP is not None
    names = subprocess.run([UNZIP, "-Z1", str(jar)], capture_output=True, text=True,
                           check=True).stdout.split()
    out = set()
    for name in names:
        if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
            text = subprocess.run([UNZIP, "-p", str(jar), name], capture_output=True,
                                  text=True, check=True).stdout
            props = dict(
                line.split("=", 1) for line in text.splitlines()
                if "=" in line and not line.startswith("#")
            )
            out.add((props["groupId"], props["artifactId"], props["version"].strip()))
    return out


def real_jars() -> list[Path]:
    return sorted(p for p in JAVA_DIR.glob("*.jar") if p.is_file() and not p.is_symlink())


def test_debian_jars_match_their_pom_properties() -> None:
    cataloger = JavaCataloger()
    tree = tree_from_dirs(cataloger.request(), [("usr/share/java", JAVA_DIR)])
    packages, skips = cataloger.catalog(tree, None)
    got: dict[str, set[tuple[str, str, str]]] = {}
    for pkg in packages:
        got.setdefault(pkg.locations[0].path, set()).add(
            (pkg.namespace or "", pkg.name, pkg.version)
        )
    with_poms = 0
    for jar in real_jars():
        expected = unzip_coordinates(jar)
        if expected:
            with_poms += 1
            assert got[f"usr/share/java/{jar.name}"] == expected, jar
    assert with_poms > 40
    # Symlinks (guava.jar -> guava-31.1-jre.jar style) are not archives of their own.
    assert all(not (JAVA_DIR / Path(p).name).is_symlink() for p in got)
    assert all(s.cataloger == "java" and s.reason for s in skips)


def test_purl_and_shaded_jar() -> None:
    jar = JAVA_DIR / "wagon-http-shaded-3.5.3.jar"
    if not jar.is_file():
        pytest.skip("libwagon-http-java is not installed")
    path = "opt/lib/wagon-http-shaded.jar"
    tree = FileTree(files={path: file_entry(path, jar.read_bytes(), layer_index=4)})
    packages, skips = JavaCataloger().catalog(tree, None)
    expected = unzip_coordinates(jar)
    assert len(expected) == 5
    assert {p.purl for p in packages} == {f"pkg:maven/{g}/{a}@{v}" for g, a, v in expected}
    assert {p.locations[0].diff_id for p in packages} == {diff_id_for(4)}
    assert skips == []


def test_manifest_and_file_name_fallbacks() -> None:
    cataloger = JavaCataloger()
    cases = {
        # Bundle-Version 4.2.3 in MANIFEST.MF, no pom.properties.
        "guice-no-aop-4.2.3.jar": ("guice-no-aop", "4.2.3", "MANIFEST.MF"),
        # MANIFEST.MF without any version: the file name carries it.
        "aopalliance-1.0.jar": ("aopalliance", "1.0", "filename"),
    }
    for name, (artifact, version, source) in cases.items():
        jar = JAVA_DIR / name
        if not jar.is_file():
            continue
        assert not unzip_coordinates(jar)
        tree = FileTree(files={name: file_entry(name, jar.read_bytes())})
        (pkg,), _ = cataloger.catalog(tree, None)
        assert (pkg.name, pkg.version, pkg.metadata["java.source"]) == (artifact, version, source)
        assert pkg.purl == f"pkg:maven/{artifact}@{version}"


def _zip(path: Path, members: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path.read_bytes()


def test_nested_archives_in_a_war(tmp_path: Path) -> None:
    guava = JAVA_DIR / "guava-31.1-jre.jar"
    commons_io = JAVA_DIR / "commons-io.jar"
    inner = _zip(tmp_path / "inner.jar", {"BOOT-INF/lib/commons-io.jar": commons_io.read_bytes()})
    war = _zip(tmp_path / "app.war", {
        "WEB-INF/web.xml": b"<web-app/>",
        "WEB-INF/lib/guava.jar": guava.read_bytes(),
        "WEB-INF/lib/fat.jar": inner,
        "WEB-INF/lib/deep.jar": _zip(tmp_path / "deep.jar", {"lib/inner.jar": inner}),
    })
    path = "srv/app.war"
    tree = FileTree(files={path: file_entry(path, war, layer_index=1)})
    packages, skips = JavaCataloger().catalog(tree, None)
    coords = {(p.namespace, p.name, p.version): p for p in packages}
    (guava_gav,) = unzip_coordinates(guava)
    (io_gav,) = unzip_coordinates(commons_io)
    assert set(coords) == {guava_gav, io_gav}
    assert coords[guava_gav].metadata["java.virtual_path"] == "srv/app.war:WEB-INF/lib/guava.jar"
    assert all(p.locations[0].path == path for p in packages)
    reasons = {s.path: s.reason for s in skips}
    # The war itself and the wrapper jars have no coordinates; depth 3 is refused.
    assert "srv/app.war" in reasons
    deep = "srv/app.war:WEB-INF/lib/deep.jar:lib/inner.jar:BOOT-INF/lib/commons-io.jar"
    assert "nested deeper" in reasons[deep]


def test_hostile_and_broken_archives_are_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(java, "MAX_NESTED_SIZE", 1000)
    bomb_member = tmp_path / "bomb.jar"
    # Declared size honest but above the limit: refused without inflating.
    big = _zip(bomb_member, {"lib/big.jar": b"\0" * 5000})
    files = {
        "a/big.jar": file_entry("a/big.jar", big),
        "a/text.jar": file_entry("a/text.jar", b"plain text, not a zip"),
    }
    packages, skips = JavaCataloger().catalog(FileTree(files=files), None)
    assert packages == []
    reasons = {s.path: s.reason for s in skips}
    assert "size limit" in reasons["a/big.jar:lib/big.jar"]
    assert "not a readable zip" in reasons["a/text.jar"]


class _Unseekable:
    """A layer member in a compressed layer: read forward only, as the reader hands it over."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        out = self._data[self._at:end]
        self._at += len(out)
        return out


def test_large_archives_spool_in_the_cache_not_the_system_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the in-memory size the spool is a file: it must live in the scan's cache
    (``catalog_image`` spools into ``<cache>/spool``), never in TMPDIR, which here does not
    exist. A cache that cannot be written costs only the archives that outgrow memory."""
    import tempfile

    from imagetrust.catalog.spool import spooling_in

    guava = JAVA_DIR / "guava-31.1-jre.jar"
    commons_io = JAVA_DIR / "commons-io.jar"
    monkeypatch.setattr(java, "SPOOL_IN_MEMORY", 1 << 20)  # guava (2.9 MB) rolls over to a file
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-tmp"))

    def extract(jar: Path) -> list[Any]:
        rows = java.extract_findings(f"srv/{jar.name}", _Unseekable(jar.read_bytes()))  # type: ignore[arg-type]
        return list(json.loads(rows))

    cache = tmp_path / "cache"
    with spooling_in(cache / "spool"):
        rows = extract(guava)
    assert [tuple(found[:3]) for _, found in rows] == list(unzip_coordinates(guava))
    assert (cache / "spool").is_dir() and list((cache / "spool").iterdir()) == []  # unnamed
    # without a cache directory the system temp dir is used: here it does not exist
    (rows,) = extract(guava)
    assert "archive unreadable" in rows[1]
    # an unwritable cache: archives small enough for memory are still read
    (tmp_path / "file").write_bytes(b"")
    with spooling_in(tmp_path / "file" / "spool"):
        assert commons_io.stat().st_size < java.SPOOL_IN_MEMORY
        small = extract(commons_io)
        (big,) = extract(guava)
    assert [tuple(found[:3]) for _, found in small] == list(unzip_coordinates(commons_io))
    assert "archive unreadable" in big[1]


def test_request_patterns() -> None:
    request = JavaCataloger().request()
    for path in ("usr/share/java/guava.jar", "srv/app.war", "opt/x.ear", "var/jenkins/p.hpi"):
        assert request.matches(path)
    assert not request.matches("usr/share/java/guava.jar.sha1")
