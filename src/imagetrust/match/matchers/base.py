"""The matcher protocol: which database ecosystem a package belongs to, and what its rows mean.

Matching runs in two steps so the database is asked once per ecosystem, not once per package:
the scan groups packages by :meth:`Matcher.ecosystem`, fetches every row for the group's
:meth:`Matcher.lookup_name` values in one query, then hands each package its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected, VulnDB
from imagetrust.match.model import Match


class MatchOutcome(NamedTuple):
    """One per package matched: a NamedTuple, cheaper to build than a frozen dataclass."""

    matches: tuple[Match, ...] = ()
    problems: tuple[str, ...] = ()
    """Rows that could not be judged (a version the scheme cannot order): never silent."""


NOTHING = MatchOutcome()


class Matcher(Protocol):
    name: str

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        """The database ecosystem (``debian:bookworm``, ``pypi``) or None if not ours."""
        ...

    def feed(self, ecosystem: str) -> str:
        """The feed spec that fills ``ecosystem`` (``debian-tracker``, ``osv/PyPI``)."""
        ...

    def lookup_name(self, package: Package) -> str:
        """The name the feed files the package under (Debian: the source package)."""
        ...

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        ...


@runtime_checkable
class RowFetcher(Protocol):
    """Optional: a matcher that fetches its own rows, to let SQL drop rows it would discard.

    Without it the scan calls ``VulnDB.affected``; with it the rows returned must be those that
    call would return minus only rows :meth:`Matcher.match` would turn into nothing (not a
    problem, not a match), so findings and problems stay identical.
    """

    def fetch_rows(
        self, db: VulnDB, ecosystem: str, packages: Sequence[Package]
    ) -> dict[str, list[Affected]]:
        """Rows keyed by stored package name, like ``VulnDB.affected``."""
        ...


def ecosystem_by_type(matcher: object) -> bool:
    """True when the matcher declares (``ecosystem_by_type = True``) that its ecosystem depends
    only on the package type and the OS, so a scan asks it once per type, not per package."""
    return getattr(matcher, "ecosystem_by_type", False) is True
