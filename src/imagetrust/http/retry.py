"""When and how long to wait before trying a request again.

Servers shed load with 429/503 and ``Retry-After``; connections drop. A bounded number of
attempts with exponential backoff, or the server's own ``Retry-After``, covers both. The wait is
capped (:data:`MAX_WAIT`, 30 s, unless a policy says less): a hostile or confused server answering
``Retry-After: 100000000`` or a date in 2099 gets the cap, never the hours it asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Answers worth another try: rate limited, or the server (or a proxy before it) failing."""
MAX_WAIT = 30.0
"""The longest single wait between two tries, in seconds, whatever ``Retry-After`` says."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: ``attempts`` tries in total, each wait capped at ``max_wait`` seconds."""

    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = MAX_WAIT

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based), at most ``max_wait``."""
        server = parse_retry_after(retry_after)
        wait = server if server is not None else self.backoff * (2 ** (attempt - 1))
        return max(0.0, min(wait, self.max_wait, MAX_WAIT))


NO_RETRY = RetryPolicy(attempts=1)
"""One try: for callers whose errors are reported, not retried (feeds, catalog, Hub, NVD)."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date; None when absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text) if len(text) < 20 else math.inf  # a 400-digit value is still "long"
        return seconds
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
