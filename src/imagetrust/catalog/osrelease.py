"""Which distribution an image is built on.

os-release is the primary source; the distribution's own release files add what it lacks (the
Debian point release ``12.7``, Alpine's full ``3.19.1``) and stand in for it on old or stripped
images. Vulnerability feeds are keyed by release, so getting this wrong means matching against the
wrong advisories: unknown fields stay ``None`` rather than guessed.
"""

from __future__ import annotations

import posixpath
import re
import shlex

from imagetrust.catalog.model import OSInfo
from imagetrust.image.files import FileRequest, FileTree

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")
STATUS_D_GLOB = "var/lib/dpkg/status.d/*"

OS_REQUEST = FileRequest(
    patterns=(
        *OS_RELEASE_PATHS,
        "etc/debian_version",
        "etc/alpine-release",
        "etc/redhat-release",
        "etc/system-release",
        STATUS_D_GLOB,
    ),
    max_size=1024 * 1024,
)
"""The files :func:`detect_os` reads (release files are tiny; status.d stanzas too)."""

DEBIAN_CODENAMES = {
    "7": "wheezy",
    "8": "jessie",
    "9": "stretch",
    "10": "buster",
    "11": "bullseye",
    "12": "bookworm",
    "13": "trixie",
    "14": "forky",
}

_RELEASE_LINE = re.compile(r"^(?P<name>.*?)\s+release\s+(?P<version>\d+(?:\.\d+)*)", re.I)
_RELEASE_IDS = (
    ("red hat enterprise linux", "rhel"),
    ("centos", "centos"),
    ("fedora", "fedora"),
    ("rocky", "rocky"),
    ("almalinux", "almalinux"),
    ("oracle linux", "ol"),
    ("amazon linux", "amzn"),
)
_NUMERIC = re.compile(r"^\d+(?:\.\d+)*$")
_MAX_LINKS = 8


def detect_os(files: FileTree) -> OSInfo | None:
    """The OS of the merged tree, or None when no release file says anything."""
    distroless = _is_distroless(files)
    fields = _os_release(files)
    if fields is not None:
        return _from_os_release(fields, files, distroless)
    for fallback in (_from_alpine_release, _from_debian_version, _from_redhat_release):
        info = fallback(files)
        if info is not None:
            return _with_distroless(info, distroless)
    if distroless:
        return _from_status_d(files)
    return None


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines with shell quoting (os-release(5)); malformed lines are ignored."""
    fields: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            continue
        try:
            parts = shlex.split(value, comments=False, posix=True)
            fields[key] = " ".join(parts)
        except ValueError:  # unbalanced quotes: keep the text minus the quote characters
            fields[key] = value.strip("\"'")
    return fields


def read_text(files: FileTree, path: str) -> str | None:
    """Content of ``path`` following symlinks inside the tree (``etc/os-release`` usually points
    at ``../usr/lib/os-release``); None when absent, dangling or not text."""
    entry = files.get(path)
    for _ in range(_MAX_LINKS):
        if entry is None or entry.kind != "symlink" or not entry.link_target:
            break
        entry = files.get(_resolve_link(entry.path, entry.link_target))
    if entry is None or entry.kind == "symlink":
        return None
    data = files.read(entry.path)
    if data is None:
        return None
    return data.decode("utf-8", errors="replace")


def _resolve_link(path: str, target: str) -> str:
    """Target of a symlink at ``path`` as a tree path; never escapes the root."""
    joined = target if target.startswith("/") else posixpath.join(posixpath.dirname(path), target)
    normalised = posixpath.normpath("/" + joined.lstrip("/"))
    return normalised.lstrip("/")


def _os_release(files: FileTree) -> dict[str, str] | None:
    for path in OS_RELEASE_PATHS:
        text = read_text(files, path)
        if text is not None:
            fields = parse_os_release(text)
            if fields:
                return fields
    return None


def _from_os_release(fields: dict[str, str], files: FileTree, distroless: bool) -> OSInfo:
    os_id = (fields.get("ID") or "linux").lower()
    version_id = fields.get("VERSION_ID") or None
    codename = fields.get("VERSION_CODENAME") or fields.get("UBUNTU_CODENAME") or None
    if codename is None and os_id == "debian":
        codename = _codename_from_version(fields.get("VERSION", ""), version_id)
    point_release = None
    if os_id == "debian":
        point_release = _numeric(read_text(files, "etc/debian_version"))
    elif os_id == "alpine":
        point_release = _numeric(read_text(files, "etc/alpine-release"))
    return OSInfo(
        id=os_id,
        version_id=version_id,
        codename=codename.lower() if codename else None,
        pretty_name=fields.get("PRETTY_NAME") or fields.get("NAME") or None,
        point_release=point_release,
        id_like=tuple(fields.get("ID_LIKE", "").lower().split()),
        distroless=distroless,
    )


def _codename_from_version(version: str, version_id: str | None) -> str | None:
    """Debian 8 and older lack VERSION_CODENAME but write ``VERSION="8 (jessie)"``."""
    match = re.search(r"\(([a-z]+)\)", version)
    if match:
        return match.group(1)
    return DEBIAN_CODENAMES.get(version_id or "")


def _numeric(text: str | None) -> str | None:
    value = (text or "").strip()
    return value if _NUMERIC.match(value) else None


def _from_alpine_release(files: FileTree) -> OSInfo | None:
    version = _numeric(read_text(files, "etc/alpine-release"))
    if version is None:
        return None
    return OSInfo("alpine", version, None, None, point_release=version)


def _from_debian_version(files: FileTree) -> OSInfo | None:
    text = read_text(files, "etc/debian_version")
    if text is None or not text.strip():
        return None
    return _debian_from_version(text.strip())


def _debian_from_version(value: str) -> OSInfo:
    """``12.7`` → version 12 (bookworm), point release 12.7; ``trixie/sid`` → codename only."""
    point = _numeric(value)
    if point is not None:
        major = point.split(".")[0]
        return OSInfo("debian", major, DEBIAN_CODENAMES.get(major), None, point_release=point)
    codename = value.split("/")[0].strip().lower() or None
    return OSInfo("debian", None, codename, None)


def _from_redhat_release(files: FileTree) -> OSInfo | None:
    for path in ("etc/redhat-release", "etc/system-release"):
        text = read_text(files, path)
        match = _RELEASE_LINE.match((text or "").strip())
        if match is None:
            continue
        name = match.group("name").lower()
        os_id = next((ident for key, ident in _RELEASE_IDS if key in name), None)
        if os_id is None:
            continue
        return OSInfo(os_id, match.group("version"), None, (text or "").strip() or None)
    return None


def _is_distroless(files: FileTree) -> bool:
    """Google distroless writes one stanza file per package into status.d and no status file."""
    if files.get("var/lib/dpkg/status") is not None:
        return False
    return any(entry.kind == "file" for entry in files.glob(STATUS_D_GLOB))


def _with_distroless(info: OSInfo, distroless: bool) -> OSInfo:
    if not distroless:
        return info
    return OSInfo(
        info.id, info.version_id, info.codename, info.pretty_name, info.point_release,
        info.id_like, distroless=True,
    )


def _from_status_d(files: FileTree) -> OSInfo:
    """Distroless without os-release: the ``base-files`` version names the Debian release
    (``12.4+deb12u5`` is Debian 12, point release 12.4)."""
    data = files.read("var/lib/dpkg/status.d/base-files")
    version = None
    if data is not None:
        match = re.search(rb"^Version:\s*(\d+(?:\.\d+)?)", data, re.M)
        if match:
            version = match.group(1).decode("ascii")
    if version is None:
        return OSInfo("debian", None, None, None, distroless=True)
    info = _debian_from_version(version)
    return _with_distroless(info, True)
