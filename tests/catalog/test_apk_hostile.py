"""apk databases whose descriptions hold characters ``str.splitlines()`` breaks on, and a BOM.

No apk-tools runs here, so the truth is the records this test writes: apk-tools 2.14 reads the
file line by line on ``\\n`` only (``apk_db_index_read``), and a line under two bytes ends a record.
"""

from __future__ import annotations

from imagetrust.catalog.apk import INSTALLED_PATH, ApkCataloger
from tests.support.pkgdb import make_tree

SEPARATORS = ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def _database() -> tuple[bytes, list[tuple[str, str]]]:
    records, written = [], []
    for i, sep in enumerate(SEPARATORS):
        name, version = f"pkg{i}", f"1.{i}-r0"
        # T: comes before V: so an injected V: would win if the line were split.
        description = f"x{sep}V:9.9-r0{sep}{sep}P:ghost{i}{sep}V:6.6-r0"
        records.append(f"C:Q1abc=\nP:{name}\nT:{description}\nV:{version}\nA:x86_64\n"
                       f"o:{name}\nL:MIT\n")
        written.append((name, version))
    return "\n".join(records).encode(), written


def test_only_newline_ends_a_line() -> None:
    data, written = _database()
    packages, skips = ApkCataloger().catalog(make_tree({INSTALLED_PATH: data}), None)
    assert sorted((p.name, p.version) for p in packages) == sorted(written)
    assert skips == []


def test_byte_order_mark_is_ignored() -> None:
    data, written = _database()
    tree = make_tree({INSTALLED_PATH: b"\xef\xbb\xbf" + data})
    packages, skips = ApkCataloger().catalog(tree, None)
    assert sorted((p.name, p.version) for p in packages) == sorted(written)
    assert skips == []


def test_a_one_byte_line_ends_the_record() -> None:
    data = b"P:a\nV:1.0-r0\nx\nP:b\nV:2.0-r0\n"
    packages, skips = ApkCataloger().catalog(make_tree({INSTALLED_PATH: data}), None)
    assert sorted((p.name, p.version) for p in packages) == [("a", "1.0-r0"), ("b", "2.0-r0")]
    assert skips == []
