"""Settings shared by every stage: flags, then ``IMAGETRUST_*`` environment, then a config file.

The config file is TOML at ``$IMAGETRUST_CONFIG`` or ``<user config dir>/imagetrust/config.toml``::

    cache-dir = "/var/cache/imagetrust"
    insecure-registries = ["registry.lan:5000"]
    [registry-mirrors]
    "docker.io" = ["http://127.0.0.1:5000"]
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs

from imagetrust.errors import UsageError
from imagetrust.oci.content import DEFAULT_PLATFORM, Platform


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, resolved once and passed down explicitly."""

    cache_dir: Path
    """Blob cache, vulnerability database and catalog caches live below this directory."""
    registry_mirrors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Registry host → mirror base URLs (``docker.io`` → ``http://127.0.0.1:5000``)."""
    insecure_registries: frozenset[str] = frozenset()
    """Hosts that may be reached over plain HTTP (loopback always may)."""
    platform: Platform = DEFAULT_PLATFORM
    docker_config: Path | None = None
    """Directory holding ``config.json`` (``DOCKER_CONFIG``); None means ``~/.docker``."""
    offline: bool = False
    source_mode: str | None = None
    """auto (local daemon first, then registry), local or registry; None → IMAGETRUST_SOURCE."""
    timeout: float = 30.0
    quiet: bool = False

    @property
    def blob_dir(self) -> Path:
        return self.cache_dir / "blobs"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def parse_mirrors(specs: list[str] | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Parse ``docker.io=http://127.0.0.1:5000`` specs (comma-separated lists allowed)."""
    mirrors: dict[str, list[str]] = {}
    for spec in specs:
        for item in spec.split(","):
            item = item.strip()
            if not item:
                continue
            host, sep, url = item.partition("=")
            if not sep or not host or not url.startswith(("http://", "https://")):
                shown = item.split("@", 1)[-1] if "@" in item else item  # never echo userinfo
                raise UsageError(
                    f"invalid registry mirror {shown!r}",
                    hint="use REGISTRY=URL, e.g. docker.io=http://127.0.0.1:5000",
                )
            mirrors.setdefault(host.strip(), []).append(url.strip().rstrip("/"))
    return {host: tuple(urls) for host, urls in mirrors.items()}


def _config_file(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("IMAGETRUST_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_config_dir("imagetrust")) / "config.toml"


_STRING = "a string"
_STRINGS = "a list of strings"
_MIRRORS = "a table of registry = URL or [URLs]"
_KEYS = {
    "cache-dir": _STRING,
    "platform": _STRING,
    "source": _STRING,
    "insecure-registries": _STRINGS,
    "registry-mirrors": _MIRRORS,
}
"""Every key the config file may set, with the type its value must have."""


def _read_config_file(path: Path) -> dict[str, Any]:
    """The config file's table, every known key of the right type: else one line naming the
    file and the key (a wrong type used to escape as a traceback much later)."""
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            config = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as error:
        reason = " ".join(str(error).split())[:200]
        raise UsageError(f"cannot read config file {path}: {reason}") from None
    for key, expected in _KEYS.items():
        if key in config and not _has_type(config[key], expected):
            raise UsageError(
                f"config file {path}: {key!r} must be {expected}, "
                f"not {type(config[key]).__name__}",
                hint="fix the value or remove the key",
            )
    return config


def _has_type(value: object, expected: str) -> bool:
    if expected == _STRING:
        return isinstance(value, str)
    if expected == _STRINGS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, dict) and all(
        isinstance(v, str) or (isinstance(v, list) and all(isinstance(u, str) for u in v))
        for v in value.values()
    )


def load_settings(
    *,
    cache_dir: Path | None = None,
    registry_mirrors: list[str] | tuple[str, ...] = (),
    insecure_registries: list[str] | tuple[str, ...] = (),
    platform: str | None = None,
    offline: bool = False,
    quiet: bool = False,
    source_mode: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: explicit arguments, then environment, then the config file."""
    env = os.environ if environ is None else environ
    file_cfg = _read_config_file(_config_file(env))

    if cache_dir is None:
        env_cache = env.get("IMAGETRUST_CACHE_DIR") or file_cfg.get("cache-dir")
        cache_dir = (
            Path(env_cache) if env_cache else Path(platformdirs.user_cache_dir("imagetrust"))
        )

    mirror_specs: list[str] = list(registry_mirrors)
    if not mirror_specs and env.get("IMAGETRUST_REGISTRY_MIRRORS"):
        mirror_specs = [env["IMAGETRUST_REGISTRY_MIRRORS"]]
    mirrors = parse_mirrors(mirror_specs)
    if not mirrors:
        for host, urls in dict(file_cfg.get("registry-mirrors", {})).items():
            url_list = [urls] if isinstance(urls, str) else list(urls)
            mirrors.update(parse_mirrors([f"{host}={u}" for u in url_list]))

    insecure = set(insecure_registries)
    insecure.update(h for h in env.get("IMAGETRUST_INSECURE_REGISTRIES", "").split(",") if h)
    insecure.update(file_cfg.get("insecure-registries", []))

    platform_text = platform or env.get("IMAGETRUST_PLATFORM") or file_cfg.get("platform")
    docker_config = env.get("DOCKER_CONFIG")
    return Settings(
        cache_dir=cache_dir,
        registry_mirrors=MappingProxyType(mirrors),
        insecure_registries=frozenset(insecure),
        platform=Platform.parse(platform_text) if platform_text else DEFAULT_PLATFORM,
        docker_config=Path(docker_config) if docker_config else None,
        offline=offline or env.get("IMAGETRUST_OFFLINE", "") in ("1", "true"),
        source_mode=source_mode or env.get("IMAGETRUST_SOURCE") or file_cfg.get("source"),
        quiet=quiet,
    )
