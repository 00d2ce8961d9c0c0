"""The catalogers a scan runs unless told otherwise, and the versions that key their results.

Cached results (a layer's contribution in the layer cache, a scan in the audit cache) are only as
good as the code that produced them. :data:`CATALOGER_VERSIONS` holds one version per cataloger
and :func:`inventory_key` folds them, the layer reader's version and the package version into one
string, so a changed cataloger never reuses results its older self produced.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import imagetrust
from imagetrust.catalog.apk import ApkCataloger
from imagetrust.catalog.dpkg import DpkgCataloger
from imagetrust.catalog.model import Cataloger
from imagetrust.catalog.opkg import OpkgCataloger
from imagetrust.catalog.rpm import RpmCataloger
from imagetrust.catalog.rpm.manifest import RpmManifestCataloger
from imagetrust.image import layercache

# Language catalogers live in modules written separately; each is used once it exists.
_LANGUAGE_CATALOGERS = (
    ("imagetrust.catalog.python", "PythonCataloger"),
    ("imagetrust.catalog.node", "NodeCataloger"),
    ("imagetrust.catalog.golang", "GoCataloger"),
    ("imagetrust.catalog.java", "JavaCataloger"),
)

OS_DETECTION = "os-release"
"""The :data:`CATALOGER_VERSIONS` entry of OS detection, which every inventory runs."""

CATALOGER_VERSIONS: Mapping[str, int] = MappingProxyType({
    OS_DETECTION: 1,
    "dpkg": 2,  # \n-only lines, BOM, symlinked status, copyright files up to 4 MB
    "apk": 2,
    "rpm": 1,
    "opkg": 1,
    "rpm-manifest": 1,
    "python": 2,
    "node": 3,  # package.json up to 32 MB
    "go": 2,
    "java": 2,
})
"""One version per cataloger ``name``. Bump a cataloger's entry whenever its output for the same
files can change: a parsing fix, a new field, other paths or size limits in its requests, a
changed ``want``/``extract`` function. The layer cache and the audit scan cache are keyed by
:func:`inventory_key`, so the bump makes them read the layers again instead of serving results
of the old code. A cataloger missing here may declare its own integer ``version`` attribute."""


def default_catalogers() -> list[Cataloger]:
    """OS package catalogers, then every available language cataloger, in a fixed order."""
    catalogers: list[Cataloger] = [DpkgCataloger(), ApkCataloger(), RpmCataloger(),
                                   OpkgCataloger(), RpmManifestCataloger()]
    for module_name, class_name in _LANGUAGE_CATALOGERS:
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            if error.name != module_name:  # the module exists but is broken: a bug to surface
                raise
            continue
        catalogers.append(getattr(module, class_name)())
    return catalogers


def cataloger_version(cataloger: Cataloger) -> str:
    """The table's version for ``cataloger``, else its own ``version`` attribute, else ``?``."""
    if cataloger.name in CATALOGER_VERSIONS:
        return str(CATALOGER_VERSIONS[cataloger.name])
    own = getattr(cataloger, "version", None)
    return str(own) if isinstance(own, int) and not isinstance(own, bool) else "?"


def inventory_key(catalogers: Sequence[Cataloger] | None = None) -> str:
    """One string naming the code an inventory comes from; equal keys, equal results.

    ``imagetrust=<package version>;reader=<layer reader version>;os-release=<n>;<name>=<n>…`` for
    ``catalogers`` (the default ones when None), sorted by name. Keys of caches whose content a
    cataloger produced must include it; bump :data:`CATALOGER_VERSIONS` to invalidate them.
    """
    chosen = default_catalogers() if catalogers is None else catalogers
    versions = {OS_DETECTION: str(CATALOGER_VERSIONS[OS_DETECTION])}
    versions.update((c.name, cataloger_version(c)) for c in chosen)
    parts = [f"imagetrust={imagetrust.__version__}", f"reader={layercache.READER_VERSION}"]
    parts.extend(f"{name}={versions[name]}" for name in sorted(versions))
    return ";".join(parts)
