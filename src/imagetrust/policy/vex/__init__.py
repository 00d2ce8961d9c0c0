"""VEX documents (OpenVEX 0.2, CSAF 2.0 VEX, CycloneDX VEX) read into one statement model.

Each format has its own parser module; :func:`load_vex` reads a file, tells the format from its
content and returns the statements in document order. The suppression itself lives in
:mod:`imagetrust.policy.suppress`.
"""

from __future__ import annotations

from imagetrust.policy.vex.load import load_vex, parse_vex
from imagetrust.policy.vex.model import STATUSES, SUPPRESSING, VexProduct, VexStatement

__all__ = ["STATUSES", "SUPPRESSING", "VexProduct", "VexStatement", "load_vex", "parse_vex"]
