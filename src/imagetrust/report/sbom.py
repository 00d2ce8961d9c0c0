"""``imagetrust sbom`` formats: the document handed to each SBOM writer.

The writers themselves (:mod:`~imagetrust.report.sbom_json`, :mod:`~imagetrust.report.cyclonedx`,
:mod:`~imagetrust.report.spdx`, :mod:`~imagetrust.report.sbom_table`) take a catalog and a name,
so tests and library users can call them on any catalog; these adapters are what the format
registry names, and load each writer only when it is chosen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagetrust.jsonutil import dumps
from imagetrust.report.sbom_document import SbomDocument

if TYPE_CHECKING:  # only the table draws on a console: JSON formats must not load rich
    from rich.console import Console


def sbom_text(document: SbomDocument) -> str:
    """imagetrust's own JSON, versioned, saying which copy of the image was read."""
    from imagetrust.report.sbom_json import catalog_document

    body = catalog_document(document.catalog, document.name, document.digest)
    image = body.get("image")
    if isinstance(image, dict):
        image["source"] = document.copy.to_json()
    versioned = {"schema_version": document.SCHEMA_VERSION, **body}
    return dumps(versioned, ensure_ascii=False)


def sbom_cyclonedx(document: SbomDocument) -> str:
    from imagetrust.report.cyclonedx import cyclonedx_json

    return cyclonedx_json(document.catalog, document.name, document.digest)


def sbom_spdx(document: SbomDocument) -> str:
    from imagetrust.report.spdx import spdx_json

    return spdx_json(document.catalog, document.name, document.digest)


def sbom_table(document: SbomDocument, console: Console) -> None:
    from imagetrust.report.sbom_table import render_sbom_table

    render_sbom_table(document.catalog, document.name, console)
