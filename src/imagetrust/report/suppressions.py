"""Notes on suppressions that the table and Markdown print: the count, expired and ended
exceptions. Kept free of rich so the Markdown formatter does not load it."""

from __future__ import annotations

from imagetrust.report.document import CvesDocument


def suppression_lines(document: CvesDocument) -> list[str]:
    """One line each: how many findings were suppressed, each expired and each ended exception."""
    lines: list[str] = []
    if document.suppressed:
        vex = sum(1 for s in document.suppressed if s.kind == "vex")
        hint = "" if document.show_suppressed else "; --show-suppressed lists them"
        lines.append(f"{len(document.suppressed)} suppressed ({vex} by VEX, "
                     f"{len(document.suppressed) - vex} by exceptions){hint}")
    for exc in document.expired:
        day = exc.expires.isoformat() if exc.expires else "?"
        lines.append(f"expired: exception {exc.label} expired on {day} and no longer "
                     "suppresses")
    lines += [f"ended: {x.finding.package.name} {x.finding.id}: {x.reason}"
              for x in document.ended]
    return lines


__all__ = ["suppression_lines"]
