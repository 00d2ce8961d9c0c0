"""One statement model for every VEX format: what a document says about a vulnerability in a
product, and where it said so (file and statement index), so a suppression can name its cause.

Statuses follow OpenVEX's four words; CSAF ``known_not_affected``/``fixed``/``known_affected``/
``under_investigation`` and CycloneDX ``analysis.state`` are mapped onto them by their parsers.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_AFFECTED = "not_affected"
AFFECTED = "affected"
FIXED = "fixed"
UNDER_INVESTIGATION = "under_investigation"
STATUSES: tuple[str, ...] = (NOT_AFFECTED, AFFECTED, FIXED, UNDER_INVESTIGATION)
SUPPRESSING: frozenset[str] = frozenset({NOT_AFFECTED, FIXED})
"""Statuses that hide a finding; ``affected`` and ``under_investigation`` never do."""


@dataclass(frozen=True, slots=True)
class VexProduct:
    """A product a statement is about, identified by a package URL.

    ``subcomponents`` narrow the statement to packages inside the product (OpenVEX: an image
    ``pkg:oci/...`` and the ``pkg:apk/...`` packages in it). ``version_range`` is a ``vers:``
    range (or a bare version) when the document gives one, else None: any version.
    """

    purl: str
    subcomponents: tuple[str, ...] = ()
    version_range: str | None = None


@dataclass(frozen=True, slots=True)
class VexStatement:
    """One VEX statement, whatever format it came from."""

    vulnerability: str
    aliases: tuple[str, ...]
    products: tuple[VexProduct, ...]
    status: str
    """One of :data:`STATUSES`."""
    justification: str | None
    impact_statement: str | None
    action_statement: str | None
    source: str
    """The file the statement was read from."""
    index: int
    """The statement's position in that file (0-based, document order)."""
    format: str
    """``openvex``, ``csaf`` or ``cyclonedx``."""

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.vulnerability, *self.aliases)

    @property
    def suppresses(self) -> bool:
        return self.status in SUPPRESSING

    @property
    def label(self) -> str:
        """Where the statement is: ``FILE#INDEX`` (what ``--show-suppressed`` prints)."""
        return f"{self.source}#{self.index}"


__all__ = [
    "AFFECTED",
    "FIXED",
    "NOT_AFFECTED",
    "STATUSES",
    "SUPPRESSING",
    "UNDER_INVESTIGATION",
    "VexProduct",
    "VexStatement",
]
