"""A ~1 GB, ~48,000-file Debian image for the cold-path benchmark, built once from real packages.

The fixture app image (122 MB) is small enough that process start-up and one sha256 pass blur
what the reader costs per header and per byte; real images are a toolchain, an interpreter or two
and a JRE. This builds one without a daemon, the way tests/support/images.py builds the fixtures:
the cached debootstrap minbase tree as layer 1, then ``apt-get install`` in a chroot for each
upper layer (umoci computes the diff), then ``skopeo copy`` into a classic docker-archive
(uncompressed layers). The result is cached under /var/tmp (``IMAGETRUST_BENCH_CACHE``) keyed by
this recipe, the tool versions and the mirror, and built at most once (build_once's lock).
Needs root, debootstrap, umoci, skopeo and the Debian mirror the host uses.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from tests.support.build.cache import build_once
from tests.support.build.rootfs import APT_ENV, apt_install, bookworm_mirror, debootstrap_rootfs
from tests.support.build.run import run, tool_versions
from tests.support.images import cache_root

DEFAULT_CACHE = Path("/var/tmp/imagetrust-bench")
TAG = "large:1.0"
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("toolchain", ("build-essential", "python3", "python3-dev", "python3-pip")),
    ("runtimes", ("nodejs", "npm", "default-jre-headless")),
)
"""Upper layers in order: a name and the packages ``apt-get install`` adds in it."""


def bench_cache() -> Path:
    return Path(os.environ.get("IMAGETRUST_BENCH_CACHE") or DEFAULT_CACHE)


def _key() -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(tool_versions().encode() + bookworm_mirror().encode())
    return digest.hexdigest()[:12]


def large_image() -> Path:
    """The docker-archive of the large image (built on first use, then reused)."""
    final = bench_cache() / f"large-{_key()}"
    return build_once(final, _build) / "large-docker-archive.tar"


def _apt_install(rootfs: Path, packages: tuple[str, ...]) -> None:
    """apt-get install with /proc mounted in the chroot (the JRE's post-install runs java)."""
    proc = rootfs / "proc"
    proc.mkdir(exist_ok=True)
    run(["mount", "-t", "proc", "proc", proc])
    try:
        apt_install(rootfs, packages)
    finally:
        run(["umount", "-l", proc])


def _build(work: Path) -> None:
    base = debootstrap_rootfs(cache_root())  # shared with the test fixtures
    layout = work / "layout"
    bundle = work / "bundle"
    run(["umoci", "init", "--layout", layout])
    run(["umoci", "new", "--image", f"{layout}:base"])
    run(["umoci", "unpack", "--image", f"{layout}:base", bundle])
    shutil.rmtree(bundle / "rootfs")
    run(["cp", "-a", base, bundle / "rootfs"])
    run(["umoci", "repack", "--image", f"{layout}:base", bundle,
         "--history.created_by", "debootstrap --variant=minbase bookworm /"])
    run(["umoci", "config", "--image", f"{layout}:base", "--os", "linux",
         "--architecture", "amd64", "--config.env", f"PATH={APT_ENV['PATH']}",
         "--config.cmd", "bash"])
    shutil.rmtree(bundle)
    below = "base"
    for name, packages in LAYERS:
        run(["umoci", "unpack", "--image", f"{layout}:{below}", bundle])
        _apt_install(bundle / "rootfs", packages)
        run(["umoci", "repack", "--image", f"{layout}:{name}", bundle, "--history.created_by",
             f"/bin/sh -c apt-get install -y --no-install-recommends {' '.join(packages)}"])
        shutil.rmtree(bundle)
        below = name
    run(["skopeo", "--insecure-policy", "copy", "-q", f"oci:{layout}:{below}",
         f"docker-archive:{work / 'large-docker-archive.tar'}:{TAG}"])
    shutil.rmtree(layout)


if __name__ == "__main__":
    print(large_image())
