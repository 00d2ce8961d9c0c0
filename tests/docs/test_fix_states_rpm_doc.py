"""docs/fix-states.md's rpm table: every row must be what ``rpm_verdict`` does."""

from __future__ import annotations

from pathlib import Path

from imagetrust import versions
from imagetrust.match.fixstate import rpm_verdict

DOC = Path(__file__).resolve().parents[2] / "docs" / "fix-states.md"


def _rows(marker: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]
    lines = [line for line in block.strip().splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_every_rpm_row_is_what_the_code_does() -> None:
    rows = _rows("rpm-table")
    assert len(rows) >= 10
    for states, fixes, detail, installed, expected in rows:
        fixed = fixes.split() or [None] * len(states.split())
        judged = [(state, fix, detail or None) for state, fix in zip(states.split(), fixed,
                                                                   strict=True)]
        verdict = rpm_verdict(installed, judged, lambda a, b: versions.compare("rpm", a, b))
        assert (verdict.state or "no finding") == expected, (states, fixes, detail, installed)
