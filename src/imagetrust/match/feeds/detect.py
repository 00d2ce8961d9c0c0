"""Recognise a feed file by its content, for offline ``import`` of files copied from elsewhere.

Names lie (``all.zip``, ``data.json``); shapes do not.  Each test below is a cheap structural check
on the parsed document, ordered so that the more specific shapes win.
"""

from __future__ import annotations

import gzip
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import imagetrust.match.feeds.photon_cve as photon_cve  # SUSE/Photon/Wolfi family
import imagetrust.match.feeds.suse_oval as suse_oval
import imagetrust.match.feeds.wolfi_secdb as wolfi_secdb
from imagetrust.errors import UsageError
from imagetrust.match.feeds import (
    alpine_secdb,
    amazon_alas,
    debian_tracker,
    epss,
    fedora_bodhi,
    kev,
    nvd,
    oracle_elsa,
    osv,
    redhat_csaf,
)
from imagetrust.match.feeds.common import (
    BZ2_MAGIC,
    EMPTY_ZIP_MAGIC,
    GZIP_MAGIC,
    ZIP_MAGIC,
    bunzip,
    feed_error,
    gunzip,
    load_json,
)
from imagetrust.match.feeds.model import FeedData

KNOWN = (
    debian_tracker.FEED, alpine_secdb.FEED, osv.FEED, nvd.FEED, kev.FEED, epss.FEED,
    redhat_csaf.FEED, oracle_elsa.FEED, amazon_alas.FEED, fedora_bodhi.FEED,
    photon_cve.FEED, wolfi_secdb.FEED, wolfi_secdb.CHAINGUARD_FEED, suse_oval.FEED,
)
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_XML_FEEDS = {oracle_elsa.FEED: oracle_elsa, amazon_alas.FEED: amazon_alas}

_UNKNOWN_SECDB = "apk-secdb"  # a release-less secdb that names neither Wolfi nor Chainguard


def _kind_of_json(doc: Any) -> str | None:
    if nvd.looks_like_page(doc) or nvd.looks_like_cve(doc):
        return nvd.FEED
    if kev.looks_like(doc):
        return kev.FEED
    if epss.looks_like_json(doc):
        return epss.FEED
    if alpine_secdb.looks_like(doc):
        return alpine_secdb.FEED
    if redhat_csaf.looks_like(doc):
        return redhat_csaf.FEED
    if fedora_bodhi.looks_like(doc):
        return fedora_bodhi.FEED
    if wolfi_secdb.looks_like(doc):
        return wolfi_secdb.distro_of(doc) or _UNKNOWN_SECDB
    if photon_cve.looks_like(doc):
        return photon_cve.FEED
    if osv.looks_like(doc) or (isinstance(doc, list) and doc and all(map(osv.looks_like, doc))):
        return osv.FEED
    if debian_tracker.looks_like(doc):
        return debian_tracker.FEED
    return None


def _kind_of_xml(data: bytes) -> str | None:
    if oracle_elsa.looks_like(data):
        return oracle_elsa.FEED
    if amazon_alas.looks_like(data):
        return amazon_alas.FEED
    if suse_oval.looks_like(data):
        return suse_oval.FEED
    return None


def split_by_release(data: FeedData) -> list[FeedData]:
    """One result per release (``oracle-elsa/9``), the unit a scan asks for: a file such as
    Oracle's ``elsa-all`` spans every release."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in data.affected:
        groups[row.ecosystem.split(":", 1)[1]].append(row)
    results = []
    for release, rows in sorted(groups.items()):
        ids = {row.advisory_id for row in rows}
        results.append(FeedData(
            feed=data.feed, source=f"{data.feed}/{release}", record_count=len(ids),
            advisories=[a for a in data.advisories if a.id in ids], affected=rows,
            severities=[s for s in data.severities if s.advisory_id in ids],
        ))
    return results


def _is_epss_csv(path: Path, feed: str | None) -> bool:
    """An EPSS CSV (or gzip of one), judged from its first bytes only."""
    try:
        with path.open("rb") as handle:
            head = handle.read(256)
            if head[:2] == GZIP_MAGIC:
                handle.seek(0)
                with gzip.GzipFile(fileobj=handle) as inflated:
                    head = inflated.read(256)
    except (OSError, EOFError, zlib.error):
        return False  # the whole-file path below says what is wrong
    if head[:4] in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
        return False
    return feed == epss.FEED or epss.looks_like_csv(head)


def parse_file(path: Path, feed: str | None = None) -> list[FeedData] | None:
    """Parse one feed file; None when its content is no feed we know (and ``feed`` was not given).

    OSV records come back as one FeedData per ecosystem family so each replaces ``osv/<Family>``.
    """
    if feed is not None and feed not in KNOWN:
        raise UsageError(f"unknown feed {feed!r}", hint=f"choose from {', '.join(KNOWN)}")
    label = str(path)
    if feed in (None, epss.FEED) and _is_epss_csv(path, feed):
        try:
            with path.open("rb") as stream:  # streamed: a huge line is an error, not a read
                return [epss.parse_stream(stream, epss.FEED)]
        except OSError as error:
            raise feed_error(label, f"cannot read file ({error.strerror})") from error
    try:
        data = path.read_bytes()
    except OSError as error:
        raise feed_error(label, f"cannot read file ({error.strerror})") from error
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, label)
    elif data[:3] == BZ2_MAGIC:
        data = bunzip(data, label)
    if data[:4] == ZSTD_MAGIC:  # Red Hat's archive of VEX documents (tar.zst)
        if feed not in (None, redhat_csaf.FEED):
            raise feed_error(label, f"an archive of CSAF documents is not a {feed} feed")
        return [redhat_csaf.parse_bytes(data, redhat_csaf.FEED)]
    xml_kind = feed if feed in _XML_FEEDS else _kind_of_xml(data) if feed is None else None
    if feed == suse_oval.FEED or xml_kind == suse_oval.FEED:  # units are upstream files
        return suse_oval.split_by_unit(suse_oval.parse_bytes(data, label))
    if xml_kind is not None:
        return split_by_release(_XML_FEEDS[xml_kind].parse_bytes(data, label))
    if data[:4] in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
        if feed not in (None, osv.FEED):
            raise feed_error(label, f"a zip archive is not a {feed} feed")
        return _regroup_osv(osv.read_zip(data, label))
    if feed == epss.FEED or (feed is None and epss.looks_like_csv(data[:256])):
        return [epss.parse_bytes(data, epss.FEED)]
    doc = load_json(data, label) if feed != epss.FEED else None
    kind = feed or _kind_of_json(doc)
    if kind is None:
        return None
    return _parse_doc(kind, doc, label)


def _parse_doc(kind: str, doc: Any, label: str) -> list[FeedData]:
    if kind == debian_tracker.FEED:
        if not debian_tracker.looks_like(doc):
            raise feed_error(label, "not Debian security tracker JSON")
        return [debian_tracker.parse(doc)]
    if kind == alpine_secdb.FEED:
        return [alpine_secdb.parse(doc)]
    if kind in (wolfi_secdb.FEED, wolfi_secdb.CHAINGUARD_FEED, _UNKNOWN_SECDB):
        return [wolfi_secdb.parse(doc, None if kind == _UNKNOWN_SECDB else kind)]
    if kind == photon_cve.FEED:
        release = photon_cve.release_of_name(label)
        if release is None:
            raise feed_error(label, "cannot tell the Photon release: keep the upstream file "
                             "name cve_data_photon<release>.json")
        return [photon_cve.parse(doc, release)]
    if kind == nvd.FEED:
        return [nvd.parse_cves(nvd.cves_of(doc, label))]
    if kind == kev.FEED:
        return [kev.parse(doc)]
    if kind == fedora_bodhi.FEED:  # one file per update: merge() joins a release's files
        return split_by_release(fedora_bodhi.parse_doc(doc, label))
    if kind == epss.FEED:
        return [epss.parse_json(doc)]
    if kind == redhat_csaf.FEED:
        docs = doc if isinstance(doc, list) else [doc]
        return [redhat_csaf.parse_documents(docs, redhat_csaf.FEED)]
    records = doc if isinstance(doc, list) else [doc]
    return _regroup_osv(records)


def _regroup_osv(records: list[Any]) -> list[FeedData]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for record in records:
        if not osv.looks_like(record):
            raise feed_error(osv.FEED, "not an OSV record (no id/modified)")
        groups[osv.family_of(record)].append(record)
    return [osv.parse_records(recs, f"{osv.FEED}/{fam}") for fam, recs in sorted(groups.items())]


def merge(datas: list[FeedData]) -> list[FeedData]:
    """Merge results that replace the same source (OSV records spread over many files)."""
    by_source: dict[str, list[FeedData]] = defaultdict(list)
    for item in datas:
        by_source[item.source].append(item)
    merged: list[FeedData] = []
    for source, items in by_source.items():
        if len(items) == 1:
            merged.append(items[0])
            continue
        first = items[0]
        merged.append(
            FeedData(
                feed=first.feed,
                source=source,
                record_count=sum(i.record_count for i in items),
                mode=first.mode,
                advisories=[r for i in items for r in i.advisories],
                affected=[r for i in items for r in i.affected],
                severities=[r for i in items for r in i.severities],
                kev=[r for i in items for r in i.kev],
                epss=[r for i in items for r in i.epss],
            )
        )
    return merged
