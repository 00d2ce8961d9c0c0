"""What a feed parser hands to the database: plain immutable rows in table column order.

NamedTuples rather than dataclasses because the Debian tracker yields about a million affected
rows: tuples go straight into ``executemany`` without a conversion pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple


class AdvisoryRow(NamedTuple):
    id: str
    aliases: str | None  # JSON array
    summary: str | None
    published: str | None
    modified: str | None
    withdrawn: str | None
    extra: str | None  # JSON object


class AffectedRow(NamedTuple):
    ecosystem: str
    package: str
    advisory_id: str
    state: str
    fixed_version: str | None
    urgency: str | None
    nodsa: str | None
    nodsa_reason: str | None
    ranges: str | None  # JSON
    versions: str | None  # JSON
    extra: str | None  # JSON
    fixed_key: str | None = None  # Debian: dpkg.sortable(fixed_version) for SQL-side filtering


class SeverityRow(NamedTuple):
    advisory_id: str
    origin: str
    type: str
    score: float | None
    vector: str | None
    rating: str | None


class KevRow(NamedTuple):
    cve_id: str
    vendor: str | None
    product: str | None
    name: str | None
    date_added: str | None
    due_date: str | None
    required_action: str | None
    ransomware: str | None
    notes: str | None


class EpssRow(NamedTuple):
    cve_id: str
    epss: float
    percentile: float
    date: str | None


Mode = Literal["replace", "upsert"]


@dataclass(frozen=True, slots=True)
class FeedData:
    """The parsed content of one feed unit, owned by ``source`` (the ``feeds.name`` row).

    ``mode="replace"`` drops every row the source wrote before; ``"upsert"`` (NVD, fetched per CVE)
    only replaces rows of the advisories present.
    """

    feed: str
    source: str
    record_count: int
    mode: Mode = "replace"
    advisories: list[AdvisoryRow] = field(default_factory=list)
    affected: list[AffectedRow] = field(default_factory=list)
    severities: list[SeverityRow] = field(default_factory=list)
    kev: list[KevRow] = field(default_factory=list)
    epss: list[EpssRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FeedUnit:
    """One URL to fetch for a feed: ``source`` names the rows it owns."""

    feed: str
    source: str
    url: str


def only_release(data: FeedData) -> FeedData:
    """``data`` cut to the release its source names (``oracle-elsa/9`` → ``oracle:9`` rows): a
    unit owns one release's rows, whatever else the downloaded file holds. A source without a
    release (a file imported whole) keeps everything."""
    prefix = f"{data.feed}/"
    if not data.source.startswith(prefix):
        return data
    release = data.source[len(prefix):]
    affected = [r for r in data.affected if r.ecosystem.split(":", 1)[-1] == release]
    ids = {r.advisory_id for r in affected}
    return FeedData(
        feed=data.feed, source=data.source, record_count=len(ids),
        advisories=[a for a in data.advisories if a.id in ids], affected=affected,
        severities=[s for s in data.severities if s.advisory_id in ids],
    )
