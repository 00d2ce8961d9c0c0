"""Tag variants: what a tag says besides its version (``16.4-bookworm`` → debian, no flavour).

Moving from ``python:3.11-slim-bookworm`` to ``python:3.12-alpine`` changes the C library,
the package manager and the image size; a recommendation keeps the variant family unless asked
not to. A tag is split into a version (leading dotted numbers), an OS family (from a release
codename or ``alpineX.Y``), an OS release (the codename or the Alpine branch) and flavour words
(``slim``, ``jdk``, ``jre``, ``fpm``, ``cli``…). Versions compare numerically, part by part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

DEBIAN_CODENAMES = ("buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid")
UBUNTU_CODENAMES = ("bionic", "focal", "jammy", "noble", "oracular", "plucky", "questing",
                    "resolute")
_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)")
_ALPINE = re.compile(r"^alpine(\d+\.\d+)?$")


@dataclass(frozen=True, slots=True)
class TagVariant:
    tag: str
    version: tuple[int, ...]
    """Leading numeric version (empty for ``latest``, ``bookworm``…)."""
    os_family: str | None
    """``debian``, ``ubuntu``, ``alpine``, … when the tag names one."""
    os_release: str | None
    """``bookworm``, ``3.20`` …"""
    flavour: tuple[str, ...]
    """The other words (``slim``, ``jdk``, ``fpm``), sorted."""

    @property
    def family(self) -> tuple[str | None, tuple[str, ...]]:
        """What a recommendation keeps by default: OS family and flavour words."""
        return self.os_family, self.flavour

    @property
    def version_text(self) -> str:
        return ".".join(str(p) for p in self.version)


def parse_tag(tag: str) -> TagVariant:
    """Split ``tag`` into version, OS family and release, and flavour."""
    version: tuple[int, ...] = ()
    rest = tag
    match = _VERSION.match(tag)
    if match:
        version = tuple(int(p) for p in match.group(1).split("."))
        rest = tag[match.end():]
    os_family: str | None = None
    os_release: str | None = None
    flavour: list[str] = []
    for word in (w for w in re.split(r"[-_]", rest) if w):
        lowered = word.lower()
        alpine = _ALPINE.match(lowered)
        if lowered in DEBIAN_CODENAMES:
            os_family, os_release = "debian", lowered
        elif lowered in UBUNTU_CODENAMES:
            os_family, os_release = "ubuntu", lowered
        elif alpine:
            os_family, os_release = "alpine", alpine.group(1)
        elif lowered in ("latest",) or lowered.isdigit():
            continue  # `latest`, and build dates such as bookworm-20260803
        else:
            flavour.append(lowered)
    return TagVariant(tag, version, os_family, os_release, tuple(sorted(flavour)))


def entry_variant(tags: Sequence[str]) -> TagVariant:
    """One variant for all the tags of an official-images entry (``bookworm, 12.15, 12``):
    the most specific versioned tag names it, and any tag may name the OS release."""
    parsed = [parse_tag(t) for t in tags]
    best = max(parsed, key=lambda v: (len(v.version), v.version, -len(v.tag)))
    named = next((v for v in parsed if v.os_family), None)
    if best.os_family is None and named is not None:
        return TagVariant(best.tag, best.version, named.os_family, named.os_release,
                          best.flavour)
    return best


def same_family(a: TagVariant, b: TagVariant, *, default_os: str | None = None) -> bool:
    """Same OS family and flavour; a tag that names no OS counts as ``default_os`` (the image's
    own OS: ``postgres:16`` is the Debian variant)."""
    return (a.os_family or default_os, a.flavour) == (b.os_family or default_os, b.flavour)


def change(old: tuple[int, ...], new: tuple[int, ...]) -> str:
    """``none``, ``patch``, ``minor``, ``major`` (or ``downgrade``) between two versions."""
    if not old or not new or old == new:
        return "none" if old == new else "unknown"
    if new < old:
        return "downgrade"
    if new[0] != old[0]:
        return "major"
    if len(new) > 1 and len(old) > 1 and new[1] != old[1]:
        return "minor"
    return "patch"


__all__ = ["TagVariant", "change", "entry_variant", "parse_tag", "same_family"]
