"""``catalog update`` for release lifecycles: the shipped dates refreshed from endoflife.date.

The package ships a snapshot (``data/lifecycles.json``); support ends on dates announced after
a release, so ``imagetrust catalog update`` fetches each product's cycles from endoflife.date's
public API (``<base>/<product>.json``, base configurable: ``IMAGETRUST_LIFECYCLE_URL``) and
writes the same format into the cache directory, where :mod:`imagetrust.assess.lifecycle`
prefers it. A product that cannot be fetched keeps its shipped dates (and is named); nothing is
written unless every answer parsed, so a broken mirror never leaves half a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagetrust import jsonutil
from imagetrust.assess.lifecycle import CACHE_FILE, shipped_data
from imagetrust.atomic import write_atomic
from imagetrust.errors import FeedError, ImagetrustError, NetworkError
from imagetrust.http.body import read_capped
from imagetrust.http.guard import check_plain_http, redact_url

DEFAULT_URL = "https://endoflife.date/api"
URL_ENV = "IMAGETRUST_LIFECYCLE_URL"
MAX_BODY = 4 << 20


@dataclass(frozen=True, slots=True)
class LifecycleUpdate:
    path: Path
    products: tuple[str, ...]
    """Products refreshed from the source."""
    kept: tuple[str, ...]
    """Products that kept the shipped dates (with why, for the user)."""


def _date_or_flag(value: Any) -> str | bool | None:
    if isinstance(value, bool) or value is None:
        return value
    return str(value)


def convert(product: str, entry: dict[str, Any], cycles: Any) -> dict[str, Any]:
    """endoflife.date's API cycles → our product entry (the shipped file's format)."""
    if not isinstance(cycles, list) or not cycles:
        raise FeedError(f"lifecycles: {product}: expected a non-empty list of cycles")
    security = entry["security_field"]
    releases = []
    for cycle in cycles:
        if not isinstance(cycle, dict) or "cycle" not in cycle:
            raise FeedError(f"lifecycles: {product}: a cycle without a `cycle` name")
        eol = _date_or_flag(cycle.get("eol"))
        eoes = _date_or_flag(cycle.get("extendedSupport"))
        until = eoes if security == "eoes" and eoes not in (None, False) else eol
        codename = cycle.get("codename")
        releases.append({
            "cycle": str(cycle["cycle"]),
            "codename": str(codename).split()[0].lower() if codename else None,
            "released": _date_or_flag(cycle.get("releaseDate")),
            "eol": eol,
            "eoes": eoes,
            "security_until": until,
            "lts": bool(cycle.get("lts")),
            "latest": _date_or_flag(cycle.get("latest")),
        })
    return {**entry, "releases": releases}


def update_lifecycles(
    cache_dir: Path, base_url: str = DEFAULT_URL, *, insecure: frozenset[str] = frozenset()
) -> LifecycleUpdate:
    """Fetch every product the shipped file maps and write the refreshed file to the cache."""
    import httpx

    from imagetrust.http.client import HttpClient

    check_plain_http(base_url, insecure)
    data = shipped_data()
    products: dict[str, Any] = {}
    refreshed, kept = [], []
    with HttpClient(timeout=30.0, insecure=insecure) as client:
        for name, entry in data["products"].items():
            url = f"{base_url.rstrip('/')}/{entry['source']}.json"
            try:
                with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise NetworkError(f"{redact_url(url)} answered {response.status_code}")
                    body = read_capped(response, MAX_BODY)
                cycles = jsonutil.loads(body, what=f"lifecycles for {name}", error=FeedError)
                products[name] = convert(name, entry, cycles)
                refreshed.append(name)
            except ImagetrustError as error:
                products[name] = entry
                kept.append(f"{name} ({error.message})")
            except httpx.HTTPError as error:  # refused, timed out: keeps its shipped dates
                products[name] = entry
                kept.append(f"{name} ({error})")
    if not refreshed:
        raise NetworkError(
            f"no release lifecycle could be fetched from {redact_url(base_url)}",
            hint=f"check the network or set {URL_ENV} to a mirror; the shipped dates stay in use",
        )
    document = {**data, "source": redact_url(base_url), "commit": None, "products": products}
    path = cache_dir / CACHE_FILE
    write_atomic(path, json.dumps(document, indent=1).encode(), sync_dir=True)
    return LifecycleUpdate(path, tuple(refreshed), tuple(kept))


__all__ = ["DEFAULT_URL", "URL_ENV", "LifecycleUpdate", "convert", "update_lifecycles"]
