"""Read a VEX file of any supported format: bounded, parsed safely, format told by content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagetrust.errors import PolicyError
from imagetrust.jsonutil import loads
from imagetrust.policy.vex import csaf, cyclonedx, openvex
from imagetrust.policy.vex.model import VexStatement

MAX_BYTES = 64 * 1024 * 1024
"""Larger than Red Hat's biggest CSAF VEX files; a bound on what a hostile file makes us read."""


def parse_vex(doc: Any, source: str) -> tuple[VexStatement, ...]:
    """Statements of one parsed document; ``source`` names it in statements and errors."""
    if openvex.is_openvex(doc):
        return openvex.parse_openvex(doc, source)
    if csaf.is_csaf(doc):
        return csaf.parse_csaf(doc, source)
    if cyclonedx.is_cyclonedx(doc):
        return cyclonedx.parse_cyclonedx(doc, source)
    raise PolicyError(
        f"VEX file {source} is not an OpenVEX, CSAF or CycloneDX document",
        hint="OpenVEX has an openvex @context, CSAF a document.csaf_version, CycloneDX a "
        "bomFormat",
    )


def load_vex(path: str | Path) -> tuple[VexStatement, ...]:
    """Read ``path`` and return its statements in document order."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise PolicyError(f"cannot read VEX file {path}: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise PolicyError(f"VEX file {path} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    doc = loads(data, what=f"VEX file {path}", error=PolicyError)
    return parse_vex(doc, str(path))


__all__ = ["MAX_BYTES", "load_vex", "parse_vex"]
