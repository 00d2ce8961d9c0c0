"""Release lifecycles: is the image's OS release, or the runtime it ships, still supported?

An image on a release past its security support gets no more fixes however often it is rebuilt:
rebuilding fixes nothing, only moving does. The dates come from one data file shipped with the
package (``data/lifecycles.json``, from endoflife.date; ``scripts/lifecycles.py`` writes it) and
shared with ``recommend``. The OS release is matched from os-release (``ID``/``VERSION_ID``);
runtimes from the version variables official images set (``NODE_VERSION``, ``PYTHON_VERSION``,
``PG_MAJOR``…), so a user's own image on ``node:16`` inherits the finding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from imagetrust.assess.evidence import Evidence, Outcome, Signal
from imagetrust.catalog.model import OSInfo

_VERSION = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True, slots=True)
class Release:
    product: str
    kind: str
    """``os`` or ``runtime``."""
    cycle: str
    codename: str | None
    released: date | None
    security_until: date | None
    """Last day of security support; None when not announced (still supported)."""
    ended: bool
    """Past its security support on the day asked (a release the data marks ended without a
    date counts as ended)."""
    lts: bool
    latest: str | None

    @property
    def label(self) -> str:
        name = f"{self.product} {self.cycle}"
        return f"{name} ({self.codename})" if self.codename else name

    def sentence(self) -> str:
        if self.ended:
            since = f" since {self.security_until.isoformat()}" if self.security_until else ""
            return f"{self.label} is past its security support{since}: no more fixes will come"
        until = self.security_until.isoformat() if self.security_until else "not announced"
        return f"{self.label} is supported (security fixes until {until})"


CACHE_FILE = "lifecycles.json"
"""The refreshed copy ``imagetrust catalog update`` writes into the cache directory."""


@cache
def shipped_data() -> dict[str, Any]:
    """The snapshot shipped with the package."""
    text = resources.files("imagetrust").joinpath("data/lifecycles.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _cached_copy(path: str, mtime_ns: int) -> dict[str, Any] | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    ok = isinstance(data, dict) and isinstance(data.get("products"), dict)
    return data if ok else None


def _data() -> dict[str, Any]:
    """The refreshed copy in the cache when there is a readable one, else the shipped data."""
    from imagetrust.config import load_settings

    path = load_settings().cache_dir / CACHE_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return shipped_data()
    return _cached_copy(str(path), stamp) or shipped_data()


def _date(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _release(
    product: str, entry: Mapping[str, Any], cycle: Mapping[str, Any], today: date
) -> Release:
    raw = cycle.get("security_until")
    until = _date(raw)
    ended = raw is True or (until is not None and until < today)
    return Release(
        product=product,
        kind=str(entry["kind"]),
        cycle=str(cycle["cycle"]),
        codename=cycle.get("codename"),
        released=_date(cycle.get("released")),
        security_until=until,
        ended=ended,
        lts=bool(cycle.get("lts")),
        latest=cycle.get("latest"),
    )


def _cycle_for(entry: Mapping[str, Any], version: str) -> Mapping[str, Any] | None:
    """The release cycle a version belongs to: the longest cycle that prefixes it."""
    cycles: dict[str, Mapping[str, Any]] = {str(c["cycle"]): c for c in entry["releases"]}
    parts = version.split(".")
    for length in range(len(parts), 0, -1):
        found = cycles.get(".".join(parts[:length]))
        if found is not None:
            return found
    return None


def products(kind: str | None = None) -> dict[str, Mapping[str, Any]]:
    """The products the data file knows (``os``, ``runtime`` or both)."""
    found: dict[str, Mapping[str, Any]] = _data()["products"]
    return {n: p for n, p in found.items() if kind is None or p["kind"] == kind}


def releases(product: str, today: date) -> tuple[Release, ...]:
    """Every release of ``product`` the data lists, newest first."""
    entry = products().get(product)
    if entry is None:
        return ()
    return tuple(_release(product, entry, c, today) for c in entry["releases"])


def os_release(os_info: OSInfo | None, today: date) -> Release | None:
    """The lifecycle of the image's OS release, when the data knows it."""
    if os_info is None or not os_info.version_id:
        return None
    for name, entry in products("os").items():
        if os_info.id in entry["match"]:
            match = _VERSION.match(os_info.version_id.replace("-SP", "."))
            cycle = _cycle_for(entry, match.group(0)) if match else None
            return _release(name, entry, cycle, today) if cycle is not None else None
    return None


def runtime_releases(env: Mapping[str, str], today: date) -> tuple[Release, ...]:
    """Runtimes the image's environment names (``NODE_VERSION=20.11.1`` → node 20)."""
    found: list[Release] = []
    for name, entry in products("runtime").items():
        for variable in entry["match"]:
            value = env.get(variable)
            if not value:
                continue
            text = value.split(":", 1)[-1] if re.match(r"^\d+:", value) else value
            match = _VERSION.search(text.removeprefix("jdk-").removeprefix("jdk"))
            cycle = _cycle_for(entry, match.group(0)) if match else None
            if cycle is not None:
                found.append(_release(name, entry, cycle, today))
                break
    return tuple(found)


def lifecycle_evidence(found: tuple[Release, ...], os_info: OSInfo | None) -> Evidence:
    """Fail when the OS release or a runtime is past its security support; unknown when the
    data knows none of them (never a pass by default)."""
    ended = [r for r in found if r.ended]
    if ended:
        outcome, summary = Outcome.FAIL, "; ".join(r.sentence() for r in ended)
    elif found:
        outcome, summary = Outcome.PASS, "; ".join(r.sentence() for r in found)
    else:
        what = f"{os_info.id} {os_info.version_id}" if os_info and os_info.version_id else (
            "the OS (not inventoried)" if os_info is None else os_info.id
        )
        outcome, summary = Outcome.UNKNOWN, f"no release lifecycle is known for {what}"
    details = {
        "releases": [
            {
                "product": r.product,
                "kind": r.kind,
                "cycle": r.cycle,
                "codename": r.codename,
                "security_until": r.security_until.isoformat() if r.security_until else None,
                "ended": r.ended,
                "lts": r.lts,
                "latest": r.latest,
            }
            for r in found
        ],
        "source": data_source(),
    }
    return Evidence(Signal.LIFECYCLE, outcome, summary, details)


def data_source() -> str:
    """Where the dates come from (for reports)."""
    data = _data()
    commit = data.get("commit")
    return f"{data['source']}" + (f" at {str(commit)[:12]}" if commit else "")


__all__ = [
    "CACHE_FILE",
    "Release",
    "data_source",
    "lifecycle_evidence",
    "os_release",
    "products",
    "releases",
    "runtime_releases",
    "shipped_data",
]
