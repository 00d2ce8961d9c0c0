"""The embedded vulnerability database: schema, atomic builds from feeds, status and reads.

Names load on first use (PEP 562): an offline scan needs only ``store`` and ``status``, and the
update/import/enrich modules pull in httpx and every feed parser, which cost CLI start-up time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagetrust.lazy import lazy_exports

if TYPE_CHECKING:
    from imagetrust.match.db.bundle import export_bundle
    from imagetrust.match.db.importer import ImportResult, import_feed
    from imagetrust.match.db.nvd_enrich import EnrichResult, RateLimiter, enrich_nvd
    from imagetrust.match.db.paths import resolve_db_path
    from imagetrust.match.db.status import DEFAULT_MAX_AGE, FeedStatus, db_status
    from imagetrust.match.db.store import VulnDB
    from imagetrust.match.db.update import (
        FeedOutcome,
        ProgressEvent,
        UpdateResult,
        update_feeds,
    )

_HOMES = {
    "export_bundle": "bundle",
    "ImportResult": "importer",
    "import_feed": "importer",
    "EnrichResult": "nvd_enrich",
    "RateLimiter": "nvd_enrich",
    "enrich_nvd": "nvd_enrich",
    "resolve_db_path": "paths",
    "DEFAULT_MAX_AGE": "status",
    "FeedStatus": "status",
    "db_status": "status",
    "VulnDB": "store",
    "FeedOutcome": "update",
    "ProgressEvent": "update",
    "UpdateResult": "update",
    "update_feeds": "update",
}


__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "DEFAULT_MAX_AGE",
    "EnrichResult",
    "FeedOutcome",
    "FeedStatus",
    "ImportResult",
    "ProgressEvent",
    "RateLimiter",
    "UpdateResult",
    "VulnDB",
    "db_status",
    "enrich_nvd",
    "export_bundle",
    "import_feed",
    "resolve_db_path",
    "update_feeds",
]
