"""The ``imagetrust sbom`` document, alone in its module: ``sbom`` is the one command whose cold
start is benchmarked against Trivy, and :mod:`~imagetrust.report.document` builds twenty
dataclasses (about 10 ms) that it never uses. ``document`` re-exports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # annotations only
    from imagetrust.catalog.model import Catalog
    from imagetrust.image.session import CopyRead


@dataclass(frozen=True)
class SbomDocument:
    """``imagetrust sbom``: the package inventory of one image."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    COMMAND: ClassVar[str] = "sbom"

    name: str
    digest: str | None
    catalog: Catalog
    copy: CopyRead
    note: str | None = None
