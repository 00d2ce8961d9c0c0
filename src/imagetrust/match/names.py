"""How ecosystems and package names are spelled in the database, shared by writers and matchers.

Both sides must agree exactly, or lookups silently miss: keep every spelling rule here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_PEP503 = re.compile(r"[-_.]+")


def normalize_ecosystem(osv_ecosystem: str) -> str:
    """``PyPI`` → ``pypi``; ``Ubuntu:22.04:LTS`` → ``ubuntu:22.04``;
    ``Ubuntu:Pro:16.04:LTS`` → ``ubuntu-pro:16.04``; ``Alpine:v3.19`` → ``alpine:v3.19``.

    Ubuntu Pro fixes only reach subscribers, so they live apart from the public archive's rows.
    """
    parts = [p for p in osv_ecosystem.strip().split(":") if p]
    if not parts:
        return ""
    head = parts[0].lower()
    rest = [p.lower() for p in parts[1:]]
    if head == "ubuntu":
        rest = [p for p in rest if p != "lts"]
        if "pro" in rest:
            rest.remove("pro")
            head = "ubuntu-pro"
    return ":".join([head, *rest])


def debian_ecosystem(codename: str) -> str:
    return f"debian:{codename.lower()}"


def alpine_ecosystem(release: str) -> str:
    """``v3.19``/``3.19`` → ``alpine:v3.19``; ``edge`` stays ``alpine:edge``."""
    rel = release.strip().lower()
    if rel and rel[0].isdigit():
        rel = "v" + rel
    return f"alpine:{rel}"


def normalize_name(ecosystem: str, name: str) -> str:
    """PyPI names are compared PEP 503-normalised; every other ecosystem keeps its spelling."""
    if ecosystem == "pypi":
        return _pep503(name)
    return name


def normalizer(ecosystem: str) -> Callable[[str], str] | None:
    """:func:`normalize_name` for one ecosystem, or None where names keep their spelling: lets a
    scan skip a call per package."""
    return _pep503 if ecosystem == "pypi" else None


@lru_cache(maxsize=65536)
def _pep503(name: str) -> str:
    """Cached: a scan normalises each name on the way into SQL and again to find its rows."""
    return _PEP503.sub("-", name).lower()
