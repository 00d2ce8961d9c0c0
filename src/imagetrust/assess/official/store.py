"""The official-images catalog's former single module, kept as the names its callers import.

The catalog now lives in four modules: :mod:`~imagetrust.assess.official.model` (the query
model), :mod:`~imagetrust.assess.official.generations` (the generation store on disk),
:mod:`~imagetrust.assess.official.download` and :mod:`~imagetrust.assess.official.importer`.
New code imports from :mod:`imagetrust.assess.official`. The download names load on first use
(PEP 562): they pull in httpx, which reading the cached library does not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagetrust.assess.official.generations import (
    STORE_DIR,
    LibraryMissingError,
    LibraryUpdate,
    load_library,
    store_dir,
)
from imagetrust.assess.official.importer import import_library
from imagetrust.assess.official.model import (
    ECR_PUBLIC_NAMESPACE,
    ECR_PUBLIC_REGISTRY,
    HUB_NAMESPACE,
    HUB_REGISTRY,
    LibraryMeta,
    OfficialLibrary,
    TagState,
    TagStatus,
    official_name,
    suggest_tags,
)
from imagetrust.lazy import lazy_exports

if TYPE_CHECKING:
    from imagetrust.assess.official.download import (
        DEFAULT_ARCHIVE_URL,
        MAX_ARCHIVE_BYTES,
        MIN_KEPT_FRACTION,
        update_library,
    )

_DOWNLOAD_NAMES = frozenset(
    {"DEFAULT_ARCHIVE_URL", "MAX_ARCHIVE_BYTES", "MIN_KEPT_FRACTION", "update_library"}
)


__getattr__ = lazy_exports(
    __name__, dict.fromkeys(_DOWNLOAD_NAMES, "imagetrust.assess.official.download")
)


__all__ = [
    "DEFAULT_ARCHIVE_URL",
    "ECR_PUBLIC_NAMESPACE",
    "ECR_PUBLIC_REGISTRY",
    "HUB_NAMESPACE",
    "HUB_REGISTRY",
    "MAX_ARCHIVE_BYTES",
    "MIN_KEPT_FRACTION",
    "STORE_DIR",
    "LibraryMeta",
    "LibraryMissingError",
    "OfficialLibrary",
    "TagState",
    "TagStatus",
    "LibraryUpdate",
    "import_library",
    "load_library",
    "official_name",
    "store_dir",
    "suggest_tags",
    "update_library",
]
