"""The embedded vulnerability database: schema, atomic builds from feeds, status and reads."""

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
