"""What changed between two images: packages, findings, config, layers.

It sits in assess because it judges two images' outputs of the earlier stages against each
other (catalogs, scan findings, image configs), the way freshness judges an image against its
tag; catalog and match each see only one image. Package versions are ordered with the
package's own scheme (:mod:`imagetrust.versions`), so ``1.10`` after ``1.9`` is an upgrade and
a Debian epoch counts; a version the scheme cannot order is reported as ``changed``, never
guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from imagetrust.catalog.model import Catalog, Package
from imagetrust.errors import ImagetrustError
from imagetrust.image.model import Image, ImageConfig
from imagetrust.match.model import SEVERITIES, Finding
from imagetrust.versions import SCHEMES, compare

PackageKey = tuple[str, str | None, str]
"""(purl type, namespace, name): one package identity across two images."""


@dataclass(frozen=True, slots=True)
class PackageChange:
    """One package present in one image or both, with its versions."""

    name: str
    type: str
    before: str | None
    """Version in image A (None: added)."""
    after: str | None
    """Version in image B (None: removed)."""
    in_base: bool = False
    """The layer that brought it is one of the base image's (B's for added/changed packages,
    A's for removed ones)."""


@dataclass(frozen=True, slots=True)
class PackageDiff:
    added: tuple[PackageChange, ...] = ()
    removed: tuple[PackageChange, ...] = ()
    upgraded: tuple[PackageChange, ...] = ()
    downgraded: tuple[PackageChange, ...] = ()
    changed: tuple[PackageChange, ...] = ()
    """Versions differ but the scheme cannot order them."""
    unchanged: int = 0

    @property
    def total(self) -> int:
        return sum(len(group) for group in self.groups().values())

    def groups(self) -> dict[str, tuple[PackageChange, ...]]:
        return {
            "added": self.added, "removed": self.removed, "upgraded": self.upgraded,
            "downgraded": self.downgraded, "changed": self.changed,
        }

    def where(self, keep: Callable[[PackageChange], bool]) -> PackageDiff:
        """The changes ``keep`` accepts (the unchanged count stays)."""
        def pick(group: tuple[PackageChange, ...]) -> tuple[PackageChange, ...]:
            return tuple(c for c in group if keep(c))

        return PackageDiff(
            pick(self.added), pick(self.removed), pick(self.upgraded), pick(self.downgraded),
            pick(self.changed), self.unchanged,
        )

    def without_base(self) -> PackageDiff:
        """Only the changes in the images' own layers (``--ignore-base``)."""
        return self.where(lambda change: not change.in_base)


def _key(package: Package) -> PackageKey:
    return (package.type, package.namespace, package.name)


def _version(package: Package) -> str:
    if package.type == "rpm" and package.epoch:
        return f"{package.epoch}:{package.version}"
    return package.version


def _order(scheme: str, a: str, b: str) -> int | None:
    if scheme not in SCHEMES:
        return None
    try:
        return compare(scheme, a, b)
    except (ImagetrustError, ValueError):
        return None


def _layer(package: Package) -> int | None:
    where = package.introduced_by
    return where.layer_index if where is not None else None


def diff_packages(
    before: Catalog,
    after: Catalog,
    *,
    base_layers_before: int | None = None,
    base_layers_after: int | None = None,
) -> PackageDiff:
    """Packages added, removed, upgraded, downgraded from ``before`` (A) to ``after`` (B).

    ``base_layers_*``: how many first layers of each image are its base's (None: unknown, so
    nothing is attributed to the base).
    """

    def in_base(package: Package, count: int | None) -> bool:
        layer = _layer(package)
        return count is not None and layer is not None and layer < count

    old = _group(before.packages)
    new = _group(after.packages)
    groups: dict[str, list[PackageChange]] = {
        k: [] for k in ("added", "removed", "upgraded", "downgraded", "changed")
    }
    unchanged = 0
    for key in sorted(old.keys() | new.keys(), key=lambda k: (k[2], k[0], k[1] or "")):
        a_versions = old.get(key, {})
        b_versions = new.get(key, {})
        common = a_versions.keys() & b_versions.keys()
        unchanged += len(common)
        gone = sorted(set(a_versions) - common)
        came = sorted(set(b_versions) - common)
        scheme, _, name = key
        if len(gone) == 1 and len(came) == 1:
            a, b = gone[0], came[0]
            order = _order(scheme, a, b)
            kind = "changed" if order in (None, 0) else "upgraded" if order < 0 else "downgraded"
            groups[kind].append(
                PackageChange(name, scheme, a, b, in_base(b_versions[b], base_layers_after))
            )
            continue
        groups["removed"] += [
            PackageChange(name, scheme, v, None, in_base(a_versions[v], base_layers_before))
            for v in gone
        ]
        groups["added"] += [
            PackageChange(name, scheme, None, v, in_base(b_versions[v], base_layers_after))
            for v in came
        ]
    return PackageDiff(
        tuple(groups["added"]), tuple(groups["removed"]), tuple(groups["upgraded"]),
        tuple(groups["downgraded"]), tuple(groups["changed"]), unchanged,
    )


def _group(packages: Iterable[Package]) -> dict[PackageKey, dict[str, Package]]:
    grouped: dict[PackageKey, dict[str, Package]] = {}
    for package in packages:
        grouped.setdefault(_key(package), {}).setdefault(_version(package), package)
    return grouped


# -- findings -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingChange:
    id: str
    package: str
    version: str
    severity: str
    fix_state: str
    fixed_version: str | None
    in_base: bool = False


@dataclass(frozen=True, slots=True)
class FindingDiff:
    fixed: tuple[FindingChange, ...] = ()
    """In A, gone from B."""
    introduced: tuple[FindingChange, ...] = ()
    """New in B."""
    unchanged: int = 0

    def without_base(self) -> FindingDiff:
        """Only findings in packages of the images' own layers (``--ignore-base``)."""
        return FindingDiff(
            tuple(c for c in self.fixed if not c.in_base),
            tuple(c for c in self.introduced if not c.in_base),
            self.unchanged,
        )

    def counts(self, which: str) -> dict[str, int]:
        """Per severity, zeros included, for ``fixed`` or ``introduced``."""
        result = dict.fromkeys(SEVERITIES, 0)
        for change in getattr(self, which):
            result[change.severity] = result.get(change.severity, 0) + 1
        return result


def diff_findings(
    before: Sequence[Finding],
    after: Sequence[Finding],
    *,
    base_layers_before: int | None = None,
    base_layers_after: int | None = None,
) -> FindingDiff:
    """Findings fixed (in A, not in B) and introduced (in B, not in A), per package name and
    vulnerability: a finding whose package moved to another version but is still vulnerable
    is neither."""

    def key(finding: Finding) -> tuple[str, str, str]:
        return (finding.id, finding.package.type, finding.package.name)

    def change(finding: Finding, count: int | None) -> FindingChange:
        layer = _layer(finding.package)
        return FindingChange(
            finding.id, finding.package.name, finding.package.version, finding.severity,
            finding.fix_state, finding.fixed_version,
            count is not None and layer is not None and layer < count,
        )

    old = {key(f): f for f in before}
    new = {key(f): f for f in after}
    rank = {s: i for i, s in enumerate(SEVERITIES)}

    def ordered(changes: Iterable[FindingChange]) -> tuple[FindingChange, ...]:
        return tuple(sorted(changes, key=lambda c: (rank.get(c.severity, 99), c.package, c.id)))

    return FindingDiff(
        fixed=ordered(change(old[k], base_layers_before) for k in old.keys() - new.keys()),
        introduced=ordered(change(new[k], base_layers_after) for k in new.keys() - old.keys()),
        unchanged=len(old.keys() & new.keys()),
    )


# -- config and layers --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValueChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    """Runtime config fields that differ (user, entrypoint, cmd, workdir, env, ports, labels)."""

    changes: tuple[ValueChange, ...] = ()
    env: tuple[ValueChange, ...] = ()
    """Per variable: before/after None when added/removed."""
    labels: tuple[ValueChange, ...] = ()
    exposed_ports: tuple[ValueChange, ...] = ()
    platform: ValueChange | None = None
    created: ValueChange | None = None
    history_changed: bool = False

    @property
    def runtime_changed(self) -> bool:
        """Anything a container would notice (not ``created`` or history)."""
        return bool(self.changes or self.env or self.labels or self.exposed_ports
                    or self.platform)


def _ports(config: ImageConfig) -> tuple[str, ...]:
    inner = config.raw.get("config") if isinstance(config.raw, Mapping) else None
    ports = inner.get("ExposedPorts") if isinstance(inner, Mapping) else None
    return tuple(sorted(ports)) if isinstance(ports, Mapping) else ()


def _workdir(config: ImageConfig) -> str | None:
    inner = config.raw.get("config") if isinstance(config.raw, Mapping) else None
    value = inner.get("WorkingDir") if isinstance(inner, Mapping) else None
    return value if isinstance(value, str) and value else None


def _mapping_diff(a: Mapping[str, str], b: Mapping[str, str]) -> tuple[ValueChange, ...]:
    return tuple(
        ValueChange(k, a.get(k), b.get(k))
        for k in sorted(a.keys() | b.keys())
        if a.get(k) != b.get(k)
    )


def diff_config(a: Image, b: Image) -> ConfigDiff:
    ca, cb = a.config, b.config
    fields: list[ValueChange] = []
    for name, va, vb in (
        ("user", ca.user or None, cb.user or None),
        ("entrypoint", _list(ca.entrypoint), _list(cb.entrypoint)),
        ("cmd", _list(ca.cmd), _list(cb.cmd)),
        ("workdir", _workdir(ca), _workdir(cb)),
    ):
        if va != vb:
            fields.append(ValueChange(name, va, vb))
    ports_a, ports_b = set(_ports(ca)), set(_ports(cb))
    ports = tuple(
        ValueChange(p, p if p in ports_a else None, p if p in ports_b else None)
        for p in sorted(ports_a ^ ports_b)
    )
    platform = (
        ValueChange("platform", str(a.platform), str(b.platform))
        if a.platform != b.platform else None
    )
    created = (
        ValueChange("created", _iso(ca.created), _iso(cb.created))
        if ca.created != cb.created else None
    )
    return ConfigDiff(
        tuple(fields), _mapping_diff(ca.env_map, cb.env_map),
        _mapping_diff(dict(ca.labels), dict(cb.labels)), ports, platform, created,
        ca.history != cb.history,
    )


def _list(value: tuple[str, ...] | None) -> list[str] | None:
    return list(value) if value is not None else None


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


@dataclass(frozen=True, slots=True)
class LayerDiff:
    """Sizes (compressed, as stored) and which layers B reuses from A (by diff_id)."""

    size_before: int
    size_after: int
    layers_before: int
    layers_after: int
    shared: int
    """Layers of B that A has too."""
    shared_bytes: int
    """Bytes of B in those shared layers (what a pull of B after A does not download)."""
    common_prefix: int
    """How many first layers the two images have in common (the same build history)."""
    same_layers: bool = field(default=False)
    """Exactly the same layers in the same order (only config or metadata can differ)."""


def diff_layers(a: Image, b: Image) -> LayerDiff:
    a_ids = set(a.diff_ids)
    shared = [layer for layer in b.layers if layer.diff_id in a_ids]
    prefix = 0
    for x, y in zip(a.diff_ids, b.diff_ids, strict=False):
        if x != y:
            break
        prefix += 1
    return LayerDiff(
        sum(layer.size for layer in a.layers), sum(layer.size for layer in b.layers),
        len(a.layers), len(b.layers), len(shared), sum(layer.size for layer in shared),
        prefix, tuple(a.diff_ids) == tuple(b.diff_ids),
    )


__all__ = [
    "ConfigDiff",
    "FindingChange",
    "FindingDiff",
    "LayerDiff",
    "PackageChange",
    "PackageDiff",
    "ValueChange",
    "diff_config",
    "diff_findings",
    "diff_layers",
    "diff_packages",
]
