"""Base score and rating from a CVSS vector, so OSV severities (vectors only) rank like NVD's."""

from __future__ import annotations

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError


def _rating_v2(score: float) -> str:
    # NVD's CVSS v2 qualitative bands.
    return "low" if score < 4.0 else "medium" if score < 7.0 else "high"


def score_vector(vector: str) -> tuple[float | None, str | None]:
    """``(base score, lower-case rating)``, or ``(None, None)`` for a vector the library rejects."""
    try:
        if vector.startswith("CVSS:4"):
            v4 = CVSS4(vector)
            return float(v4.base_score), str(v4.severity).lower()
        if vector.startswith("CVSS:3"):
            v3 = CVSS3(vector)
            return float(v3.base_score), str(v3.severities()[0]).lower()
        v2 = CVSS2(vector)
        score = float(v2.base_score)
        return score, _rating_v2(score)
    except (CVSSError, ValueError, KeyError, IndexError):
        return None, None
