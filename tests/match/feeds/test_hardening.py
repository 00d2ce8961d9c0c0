"""Hostile feed bytes: JSON nested past the parser's stack, zip and gzip bombs, corrupt deflate
streams and unknown compression methods. Each must end in one FeedError line naming the feed,
never a traceback and never an unbounded inflate.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from imagetrust.errors import FeedError
from imagetrust.match.feeds import alpine_secdb, common, debian_tracker, epss, kev, nvd, osv
from imagetrust.match.feeds.model import FeedData

DEEP = b"[" * 100_000  # far past CPython's recursion limit


def _record(ident: str, details: str = "x") -> bytes:
    return json.dumps(
        {
            "id": ident,
            "modified": "2024-01-01T00:00:00Z",
            "details": details,
            "affected": [
                {"package": {"name": "demo", "ecosystem": "PyPI"}, "versions": ["1.0"]}
            ],
        }
    ).encode()


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _one_line(error: pytest.ExceptionInfo[FeedError]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


PARSERS: dict[str, Callable[[bytes, str], FeedData]] = {
    "debian-tracker": debian_tracker.parse_bytes,
    "alpine-secdb/v3.19/main": alpine_secdb.parse_bytes,
    "kev": kev.parse_bytes,
    "nvd": nvd.parse_bytes,
}


# -- C5: nesting deep enough to exhaust the stack ------------------------------------------------


@pytest.mark.parametrize("source", sorted(PARSERS))
def test_deeply_nested_json_is_a_feed_error(source: str) -> None:
    with pytest.raises(FeedError) as info:
        PARSERS[source](DEEP, source)
    text = _one_line(info)
    assert text.startswith(f"feed {source}: ")
    assert "nested too deeply" in text


def test_deeply_nested_osv_member_names_the_member() -> None:
    archive = _zip({"GHSA-ok.json": _record("GHSA-ok"), "GHSA-deep.json": DEEP})
    with pytest.raises(FeedError) as info:
        osv.parse_zip(archive, "osv/PyPI")
    text = _one_line(info)
    assert "osv/PyPI (GHSA-deep.json)" in text and "nested too deeply" in text


def test_value_nested_just_below_the_limit_is_still_stored_or_refused_cleanly() -> None:
    # Parsed at a shallow stack, re-encoded from a deeper one: either it stores or it is a
    # FeedError, whatever the depth at which the two limits meet.
    for depth in range(900, 1000, 5):
        nested = "[" * depth + "]" * depth
        record = json.dumps(
            {
                "id": "GHSA-n", "modified": "2024-01-01T00:00:00Z",
                "affected": [{"package": {"name": "d", "ecosystem": "PyPI"}, "versions": ["1"],
                              "ecosystem_specific": {"x": "PLACEHOLDER"}}],
            }
        ).replace('"PLACEHOLDER"', nested)
        try:
            data = osv.parse_zip(_zip({"r.json": record.encode()}), "osv/PyPI")
        except FeedError as error:
            assert "\n" not in str(error) and "osv/PyPI" in str(error)
        else:
            extra = data.affected[0].extra
            assert extra is not None and extra.count("[") == depth


# -- C9: the OSV zip reader ----------------------------------------------------------------------


def _patch_data(archive: bytes, replacement: bytes) -> bytes:
    """Overwrite the first member's compressed bytes (local header at offset 0)."""
    name_len, extra_len = struct.unpack("<HH", archive[26:30])
    start = 30 + name_len + extra_len
    size = struct.unpack("<I", archive[18:22])[0]
    assert len(replacement) <= size
    return archive[:start] + replacement + archive[start + len(replacement):]


def test_corrupt_deflate_stream_is_a_feed_error() -> None:
    archive = _zip({"GHSA-a.json": _record("GHSA-a", "y" * 4000)})
    # 0xff starts a deflate block of the reserved type 3: zlib fails at once ("invalid block type")
    broken = _patch_data(archive, b"\xff" * 16)
    with pytest.raises(zlib.error), zipfile.ZipFile(io.BytesIO(broken)) as raw:
        raw.read("GHSA-a.json")  # what the standard library does with it
    with pytest.raises(FeedError) as info:
        osv.parse_zip(broken, "osv/PyPI")
    assert _one_line(info).startswith("feed osv/PyPI: ")


def test_unknown_compression_method_is_a_feed_error() -> None:
    archive = bytearray(_zip({"GHSA-a.json": _record("GHSA-a")}, zipfile.ZIP_STORED))
    struct.pack_into("<H", archive, 8, 99)  # local header: compression method
    central = archive.index(b"PK\x01\x02")
    struct.pack_into("<H", archive, central + 10, 99)  # central directory: the same
    with pytest.raises(NotImplementedError), zipfile.ZipFile(io.BytesIO(bytes(archive))) as raw:
        raw.read("GHSA-a.json")  # what the standard library does with it
    with pytest.raises(FeedError, match="compression 99") as info:
        osv.parse_zip(bytes(archive), "osv/PyPI")
    assert "GHSA-a.json" in _one_line(info)


def test_record_over_the_cap_is_refused_before_it_is_inflated() -> None:
    big = _record("GHSA-big", "a" * (osv.MAX_RECORD + 1))
    archive = _zip({"GHSA-big.json": big})
    assert len(archive) < len(big) // 100  # a small download...
    with pytest.raises(FeedError, match="larger than 16 MiB") as info:
        osv.parse_zip(archive, "osv/PyPI")  # ...that is valid JSON, just too large
    assert "GHSA-big.json" in _one_line(info)


def test_archive_total_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    members = {f"GHSA-{i}.json": _record(f"GHSA-{i}", "b" * 300_000) for i in range(4)}
    archive = _zip(members)
    assert osv.parse_zip(archive, "osv/PyPI").record_count == 4
    monkeypatch.setattr(osv, "MAX_ARCHIVE", 1_000_000)  # three records fit, the fourth does not
    with pytest.raises(FeedError, match="inflates to more than") as info:
        osv.parse_zip(archive, "osv/PyPI")
    _one_line(info)


# -- C9: gzip bodies are inflated with a limit --------------------------------------------------


def test_gzip_bomb_stops_at_the_limit(test_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv = (test_data / "nvd/epss/lodestone-epss_scores-current-first61lines.csv").read_bytes()
    padded = csv + b"\n" * (3 << 20)  # blank lines are valid CSV here: only size is wrong
    body = gzip.compress(padded)
    assert epss.parse_bytes(body).record_count == 59
    monkeypatch.setattr(common, "MAX_INFLATED", 1 << 20)
    with pytest.raises(FeedError, match="inflates to more than 1 MiB") as info:
        epss.parse_bytes(body)
    assert _one_line(info).startswith("feed epss: ")


def test_gunzip_keeps_every_member_and_rejects_truncation() -> None:
    two = gzip.compress(b"first,") + gzip.compress(b"second")
    assert common.gunzip(two, "x") == b"first,second"
    with pytest.raises(FeedError, match="corrupt or truncated gzip"):
        common.gunzip(two[:-5], "x")
    with pytest.raises(FeedError, match="more than 10 bytes"):
        common.gunzip(two, "x", limit=10)
    assert common.gunzip(two, "x", limit=12) == b"first,second"


def test_credentials_never_reach_a_feed_error_message() -> None:
    error = common.feed_error("kev", "https://alice:s3cret@mirror.example/kev answered HTTP 500")
    assert "s3cret" not in str(error) and "alice" not in str(error)
    assert "https://***@mirror.example/kev" in str(error)
