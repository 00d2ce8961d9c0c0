"""An upper layer's member of any type hides what lower layers had at its path, as overlayfs does.

The truth for the end-to-end cases is the merged file system itself: ``umoci unpack`` applies the
same layers as a runtime would, and ``dpkg-query --admindir`` lists what dpkg sees in it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from imagetrust.image.files import FileRequest
from imagetrust.image.open import open_image
from imagetrust.image.reader import read_files
from imagetrust.source.oci_layout import OciLayoutSource
from tests.support.synthetic import (
    Member,
    build_image,
    device,
    directory,
    file,
    layer_tar,
    symlink,
    write_layout,
)

STATUS = "var/lib/dpkg/status"
STANZA = """Package: {name}
Status: install ok installed
Priority: optional
Section: misc
Installed-Size: 1
Maintainer: Test <test@example.org>
Architecture: amd64
Version: 1.0-1
Description: lower-layer package {name}
 It must vanish when an upper layer replaces the status file.
"""
LOWER = layer_tar([
    directory("etc"),
    file("etc/os-release", 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'),
    directory("var"), directory("var/lib"), directory("var/lib/dpkg"),
    file(STATUS, "\n".join(STANZA.format(name=n) for n in ("lowpkg-a", "lowpkg-b"))),
    directory("usr"), directory("usr/lib"), directory("usr/lib/python3"),
    directory("usr/lib/python3/dist-packages"),
    directory("usr/lib/python3/dist-packages/lowpy-1.0.dist-info"),
    file("usr/lib/python3/dist-packages/lowpy-1.0.dist-info/METADATA",
         "Metadata-Version: 2.1\nName: lowpy\nVersion: 1.0\n"),
    directory("usr/bin"),
    file("usr/bin/tool", b"\x7fELF" + b"\0" * (70 * 1024), mode=0o755),
])
FIFO = Member(STATUS, tarfile.FIFOTYPE, mode=0o644)
BLOCK = Member(STATUS, tarfile.BLKTYPE, mode=0o644)
REPLACEMENTS = {
    "char device": device(STATUS),
    "block device": BLOCK,
    "fifo": FIFO,
    "directory": directory(STATUS),
    "symlink": symlink(STATUS, "/nonexistent"),
}
ALL = (FileRequest(("**",)),)


def _image(tmp_path: Path, upper: list[Member]) -> tuple[Path, OciLayoutSource, object]:
    # No User in the config: umoci resolves it against the image's /etc/passwd.
    image = build_image([LOWER, layer_tar(upper)], config_extra={"config": {}})
    layout = write_layout(tmp_path / "layout", {"app": image.manifest}, image.blobs)
    source = OciLayoutSource(layout)
    return layout, source, open_image(source, reference="oci-dir:layout:app")


@pytest.mark.parametrize("kind", sorted(REPLACEMENTS))
def test_non_regular_member_hides_lower_file(tmp_path: Path, kind: str) -> None:
    _, source, image = _image(tmp_path, [REPLACEMENTS[kind]])
    tree = read_files(source, image, ALL)  # type: ignore[arg-type]
    entry = tree.get(STATUS)
    assert entry is None or entry.kind != "file"
    assert tree.read(STATUS) is None
    assert tree.get("etc/os-release") is not None  # the rest of the lower layer is intact


@pytest.mark.parametrize("kind", ["file", "symlink", "char device"])
def test_non_directory_hides_lower_directory_and_everything_below(
    tmp_path: Path, kind: str
) -> None:
    where = "usr/lib/python3/dist-packages/lowpy-1.0.dist-info"
    member = {"file": file(where, "x"), "symlink": symlink(where, "elsewhere"),
              "char device": device(where)}[kind]
    _, source, image = _image(tmp_path, [member])
    tree = read_files(source, image, ALL)  # type: ignore[arg-type]
    assert tree.get(f"{where}/METADATA") is None
    assert tree.get(STATUS) is not None


def test_unmatched_replacement_hides_a_matched_lower_file(tmp_path: Path) -> None:
    """The lower executable matched a ``want`` predicate; its non-executable replacement
    matches nothing, yet it is what the image holds at that path."""
    _, source, image = _image(tmp_path, [file("usr/bin/tool", "#!/bin/sh\n", mode=0o644)])

    def executable(path: str, size: int, mode: int) -> bool:
        return bool(mode & 0o111) and size >= 64 * 1024

    tree = read_files(source, image, [FileRequest((), want=executable)])  # type: ignore[arg-type]
    assert tree.get("usr/bin/tool") is None


def test_directory_over_directory_merges(tmp_path: Path) -> None:
    _, source, image = _image(tmp_path, [directory("var/lib/dpkg"), file("var/lib/dpkg/x", "")])
    tree = read_files(source, image, [FileRequest((STATUS, "var/lib/dpkg/x"))])  # type: ignore[arg-type]
    assert tree.read(STATUS) is not None and tree.get("var/lib/dpkg/x") is not None


def test_later_member_of_same_path_in_one_layer_wins(tmp_path: Path) -> None:
    _, source, image = _image(tmp_path, [file(STATUS, "Package: x\n"), device(STATUS)])
    tree = read_files(source, image, ALL)  # type: ignore[arg-type]
    assert tree.read(STATUS) is None


def test_cached_layers_shadow_alike(tmp_path: Path) -> None:
    _, source, image = _image(tmp_path, [FIFO])
    cache = tmp_path / "cache"
    for _ in range(2):  # cold, then served from the layer cache
        tree = read_files(source, image, ALL, cache_dir=cache)  # type: ignore[arg-type]
        assert tree.read(STATUS) is None
    assert any((cache / "layers").rglob("*"))


# -- end to end, against the merged file system ----------------------------------------------
def _sbom_debs(layout: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "imagetrust", "sbom", "--format", "json", f"oci-dir:{layout}:app"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "IMAGETRUST_CACHE_DIR": str(layout.parent / "it-cache")},
    )
    assert result.returncode == 0, result.stderr
    return {p["name"] for p in json.loads(result.stdout)["packages"] if p["type"] == "deb"}


def _merged_truth(layout: Path) -> tuple[int, set[str]]:
    """The status path's file type in the unpacked image, and the packages dpkg lists there."""
    bundle = layout.parent / "bundle"
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:app", str(bundle)],
                   check=True, capture_output=True, timeout=120)
    rootfs = bundle / "rootfs"
    mode = os.lstat(rootfs / STATUS).st_mode
    if stat.S_ISFIFO(mode):
        return mode, set()  # a FIFO has no writer: dpkg would block, and reads nothing
    result = subprocess.run(
        ["dpkg-query", f"--admindir={rootfs}/var/lib/dpkg", "-W", "-f", "${Package}\n"],
        capture_output=True, text=True, timeout=60,
    )
    return mode, set(result.stdout.split()) if result.returncode == 0 else set()


needs_root_tools = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("umoci") is None or shutil.which("dpkg-query") is None,
    reason="umoci unpack of device nodes needs root, umoci and dpkg-query",
)


@needs_root_tools
@pytest.mark.slow  # umoci unpack and an imagetrust process per case: about 1 s each
@pytest.mark.parametrize("kind", [None, *sorted(REPLACEMENTS)])
def test_sbom_matches_the_merged_file_system(tmp_path: Path, kind: str | None) -> None:
    upper = [REPLACEMENTS[kind]] if kind else [file("etc/motd", "hi\n")]
    layout, _, _ = _image(tmp_path, upper)
    mode, truth = _merged_truth(layout)
    assert stat.S_ISREG(mode) == (kind is None)
    if kind is None:
        assert truth == {"lowpkg-a", "lowpkg-b"}  # the control: the lower status shows through
    else:
        assert truth == set()
    assert _sbom_debs(layout) == truth
