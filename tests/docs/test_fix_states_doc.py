"""docs/fix-states.md states the mapping as tables; every row must be what the code does."""

from __future__ import annotations

from pathlib import Path

from imagetrust import versions
from imagetrust.match.fixstate import alpine_verdict, debian_verdict

DOC = Path(__file__).resolve().parents[2] / "docs" / "fix-states.md"


def _rows(marker: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]
    lines = [line for line in block.strip().splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def _result(state: str | None) -> str:
    return state or "no finding"


def test_every_debian_row_is_what_the_code_does() -> None:
    rows = _rows("debian-table")
    assert len(rows) >= 10
    for status, fixed, urgency, nodsa, reason, installed, expected in rows:
        verdict = debian_verdict(
            installed, status, fixed or None, urgency or None, nodsa or None, reason or None,
            lambda a, b: versions.compare("deb", a, b),
        )
        assert _result(verdict.state) == expected, (status, fixed, urgency, nodsa, reason)
        assert verdict.distro_status.startswith(status)


def test_every_alpine_row_is_what_the_code_does() -> None:
    rows = _rows("alpine-table")
    assert len(rows) >= 3
    for fixes, installed, expected in rows:
        verdict = alpine_verdict(
            installed, fixes.split(), lambda a, b: versions.compare("apk", a, b)
        )
        assert _result(verdict.state) == expected, (fixes, installed)


def test_every_photon_row_is_what_the_code_does() -> None:
    from imagetrust.match.fixstate import photon_verdict

    rows = _rows("photon-table")
    assert len(rows) >= 5
    for status, fixed, installed, expected in rows:
        state = "not-affected" if status == "Not Affected" else ("fixed" if fixed != "NA"
                                                                else "affected")
        verdict = photon_verdict(
            installed, state, None if fixed == "NA" else fixed, versions.comparator("rpm")
        )
        assert _result(verdict.state) == expected, (status, fixed, installed)


def test_every_secdb_row_is_what_the_wolfi_matcher_uses() -> None:
    rows = _rows("secdb-table")
    assert len(rows) >= 4
    for fixes, installed, expected in rows:
        verdict = alpine_verdict(
            installed, fixes.split(), lambda a, b: versions.compare("apk", a, b)
        )
        assert _result(verdict.state) == expected, (fixes, installed)
