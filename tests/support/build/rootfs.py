"""Debian root filesystems: debootstrap (cached on its own inputs) and apt-get inside a chroot."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path

from tests.support.build.cache import build_once
from tests.support.build.run import run

SUITE = "bookworm"
VARIANT = "minbase"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
APT_ENV = {
    "DEBIAN_FRONTEND": "noninteractive",
    "LC_ALL": "C",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}


def bookworm_mirror(sources_dir: Path = Path("/etc/apt/sources.list.d")) -> str:
    """The mirror the host already uses for bookworm (deb822 ``.sources``), so no new hosts."""
    for sources in sorted(sources_dir.glob("*.sources")):
        for stanza in sources.read_text(encoding="utf-8").split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith(("#", " ")):
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
            if SUITE in fields.get("suites", "").split() and fields.get("uris"):
                return fields["uris"].split()[0]
    return DEFAULT_MIRROR


def clean_rootfs(rootfs: Path) -> None:
    """Drop what debootstrap/apt leave behind that no real image ships (host files, caches)."""
    for pattern in ("var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "var/lib/apt/lists/*",
                    "dev/*", "var/log/apt/*", "var/cache/debconf/*-old"):
        for path in rootfs.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for name in ("etc/resolv.conf", "etc/hostname"):
        path = rootfs / name
        if path.exists() or path.is_symlink():
            path.unlink()


def debootstrap_rootfs(cache_root: Path) -> Path:
    """A cleaned minbase bookworm tree, built once per (suite, variant, mirror, tool version)."""
    mirror = bookworm_mirror()
    inputs = f"{SUITE}|{VARIANT}|{mirror}|{run(['debootstrap', '--version']).strip()}"
    key = hashlib.sha256(inputs.encode()).hexdigest()[:12]

    def build(work: Path) -> None:
        rootfs = work / "rootfs"
        run(["debootstrap", f"--variant={VARIANT}", SUITE, rootfs, mirror])
        clean_rootfs(rootfs)

    return build_once(cache_root / f"debootstrap-{key}", build) / "rootfs"


def dpkg_installed_count(rootfs: Path) -> int:
    """Packages dpkg records as installed: the expected count for dpkg catalogers."""
    status = (rootfs / "var/lib/dpkg/status").read_text(encoding="utf-8")
    return sum(
        1 for stanza in status.split("\n\n")
        if "\nStatus: install ok installed" in "\n" + stanza
    )


def apt_install(rootfs: Path, packages: Sequence[str]) -> None:
    """apt-get install inside the tree; leaves no apt lists, caches, /dev nodes or resolv.conf."""
    dev_null = rootfs / "dev/null"
    dev_null.parent.mkdir(exist_ok=True)
    if not dev_null.exists():
        run(["mknod", "-m", "666", dev_null, "c", "1", "3"])
    shutil.copyfile("/etc/resolv.conf", rootfs / "etc/resolv.conf")
    try:
        run(["chroot", rootfs, "apt-get", "update"], env=APT_ENV)
        run(["chroot", rootfs, "apt-get", "install", "-y", "--no-install-recommends", *packages],
            env=APT_ENV)
        run(["chroot", rootfs, "apt-get", "clean"], env=APT_ENV)
    finally:
        clean_rootfs(rootfs)
