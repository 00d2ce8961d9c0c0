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
    if document.expired or document.ended:  # the suppression machinery loads only then
        from imagetrust.policy.suppress import ended_sentence, expired_sentence

        lines += [f"expired: {expired_sentence(exc)}" for exc in document.expired]
        lines += [f"ended: {ended_sentence(x)}" for x in document.ended]
    return lines


__all__ = ["suppression_lines"]
