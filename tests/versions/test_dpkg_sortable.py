"""``dpkg.sortable``: plain text order of the keys must be ``dpkg --compare-versions`` order,
because the database filters Debian rows with ``fixed_key > installed_key`` in SQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imagetrust.versions import InvalidVersion
from imagetrust.versions.dpkg import sortable
from tests.versions.oracles import dpkg_compare, require, seeded_pairs

# Shapes that stress the encoding: tildes against the end of a string, epochs, long numbers,
# leading zeros, empty revisions, a letter run right before a number, high bytes.
_EDGES = [
    "1.0~rc1", "1.0", "1.0~~", "1.0~", "1:0.9", "2.0", "1.0-1~bpo1", "1.0-1", "1.0+dfsg-1",
    "2.30-2ubuntu1", "2.30-2", "1.0.", "1.0a", "0.0~git20200101.abc", "1.2.3-0.1", "1.2.3-0.1~",
    "1.00001", "1.1", "10", "9", "1:1.0-1", "01:1.0-1", "1.0~~a", "0", "0~", "0-0", "00",
    "99999999999999999999999", "99999999999999999999998", "1.0-0", "1.0-00", "a", "A", "1.0+",
    "1.0-1+b1", "2.36-9+deb12u4", "2.36-9+deb12u10", "3:1", "1.0-1.", "1.0-1~", "1.0~-1",
]


def _sign(a: str, b: str) -> int:
    ka, kb = sortable(a), sortable(b)
    return (ka > kb) - (ka < kb)


def test_text_order_is_dpkg_order(tmp_path: Path) -> None:
    require("dpkg")
    status = Path("/var/lib/dpkg/status").read_text(errors="replace")
    installed = re.findall(r"^Version: (\S+)$", status, re.M)
    assert len(installed) > 50
    pairs = seeded_pairs(installed, 400, seed=7) + [(a, b) for a in _EDGES for b in _EDGES]
    truth = dpkg_compare(pairs, tmp_path)
    assert len(truth) == len(pairs)
    mismatches = [(a, b, t) for (a, b), t in zip(pairs, truth, strict=True) if _sign(a, b) != t]
    assert mismatches == []
    assert {-1, 0, 1} <= set(truth)


def test_upstream_vectors(test_data: Path) -> None:
    """Dpkg_Version.t's own ``v1 v2 expected`` lines."""
    lines = (test_data / "versions/dpkg-Dpkg_Version.t.DATA.txt").read_text().splitlines()
    checked = 0
    for line in lines:
        parts = line.split()
        if len(parts) != 3 or line.startswith("#"):
            continue
        a, b, expected = parts
        try:
            got = _sign(a, b)
        except InvalidVersion:
            continue  # versions dpkg refuses to parse: covered by the compare tests
        assert got == int(expected), (a, b)
        checked += 1
    assert checked > 30


def test_refuses_what_dpkg_refuses() -> None:
    for bad in ("", "1.0 2", ":1.0", "a:1.0", "1.0-"):
        with pytest.raises(InvalidVersion):
            sortable(bad)
