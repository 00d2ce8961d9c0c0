"""When and how long to wait before retrying a registry request.

Registries shed load with 429/503 and ``Retry-After``; connections drop. A bounded number of
attempts with exponential backoff (or the server's own ``Retry-After``, capped so a hostile or
confused server cannot stall a scan for hours) covers both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: ``attempts`` tries in total, waits capped at ``max_wait`` seconds."""

    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = 30.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        server = parse_retry_after(retry_after)
        wait = server if server is not None else self.backoff * (2 ** (attempt - 1))
        return max(0.0, min(wait, self.max_wait))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date; None when absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
