"""OSV ecosystem archives (``<bucket>/<Ecosystem>/all.zip``) and single OSV records.

Only ECOSYSTEM and SEMVER ranges are kept: GIT ranges name commits, which no package version in an
image can be compared with.  Withdrawn records keep their advisory row (so a report can say why a
finding vanished) but contribute no affected rows.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from imagetrust.match.feeds.common import dumps, feed_error, load_json, size_text, text
from imagetrust.match.feeds.model import (
    AdvisoryRow,
    AffectedRow,
    FeedData,
    FeedUnit,
    SeverityRow,
)
from imagetrust.match.names import normalize_ecosystem, normalize_name

FEED = "osv"
DEFAULT_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_ECOSYSTEMS = ("PyPI", "npm", "Go", "Maven", "crates.io", "RubyGems", "Ubuntu")
_CANONICAL = {e.lower(): e for e in (*DEFAULT_ECOSYSTEMS, "Debian", "Alpine", "NuGet", "Packagist")}
_MATCHABLE_RANGES = ("ECOSYSTEM", "SEMVER")
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what OSV's archives use

MAX_RECORD = 16 << 20
"""Largest single OSV record (16 MiB); real ones are a few KB, the biggest well under 1 MB."""
MAX_ARCHIVE = 4 << 30
"""Largest total inflated size of one archive (4 GiB); ``Ubuntu/all.zip``, the biggest default
ecosystem, inflates to well under that."""


def canonical_ecosystem(selector: str) -> str:
    """``pypi`` → ``PyPI`` (the bucket's directory spelling); unknown names pass through."""
    return _CANONICAL.get(selector.strip().lower(), selector.strip())


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    base = base_url.rstrip("/")
    ecosystems = [canonical_ecosystem(s) for s in selectors] or list(DEFAULT_ECOSYSTEMS)
    return [FeedUnit(FEED, f"{FEED}/{eco}", f"{base}/{eco}/all.zip") for eco in ecosystems]


def looks_like(doc: object) -> bool:
    """An OSV record: an ``id`` plus ``modified`` (required by the schema) or ``affected``."""
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("id"), str)
        and ("affected" in doc or "modified" in doc)
        and "metrics" not in doc
    )


def family_of(record: dict[str, Any]) -> str:
    """The bucket directory a record belongs to: ``Ubuntu:22.04:LTS`` → ``Ubuntu``."""
    for aff in record.get("affected") or []:
        eco = (aff.get("package") or {}).get("ecosystem") if isinstance(aff, dict) else None
        if isinstance(eco, str) and eco:
            return canonical_ecosystem(eco.split(":")[0])
    return "unknown"


def iter_zip(data: bytes, source: str) -> Iterator[Any]:
    """Every ``*.json`` member of an archive, parsed one at a time; damage is a FeedError.

    Members are read with caps (:data:`MAX_RECORD` each, :data:`MAX_ARCHIVE` in all) and only
    stored or deflated ones are accepted, so a zip bomb stops at the cap instead of filling memory.
    """
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.is_dir() or not info.filename.endswith(".json"):
                    continue
                label = f"{source} ({info.filename[:100]})"
                if info.compress_type not in _COMPRESSIONS:
                    raise feed_error(label, f"unsupported zip compression {info.compress_type}")
                if info.file_size > MAX_RECORD:
                    raise feed_error(label, f"record larger than {size_text(MAX_RECORD)}")
                total += info.file_size
                if total > MAX_ARCHIVE:
                    raise feed_error(source, f"archive inflates to more than "
                                     f"{size_text(MAX_ARCHIVE)}")
                with archive.open(info) as member:
                    body = member.read(MAX_RECORD + 1)
                if len(body) > MAX_RECORD:  # the header understated the size
                    raise feed_error(label, f"record larger than {size_text(MAX_RECORD)}")
                yield load_json(body, label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error,
            NotImplementedError, RuntimeError, ValueError) as error:
        reason = " ".join(str(error).split())[:160]
        raise feed_error(source, f"corrupt or truncated zip archive ({reason})") from error


def read_zip(data: bytes, source: str) -> list[Any]:
    """Every ``*.json`` member of an archive, parsed (see :func:`iter_zip`)."""
    return list(iter_zip(data, source))


def parse_zip(data: bytes, source: str) -> FeedData:
    """An ecosystem archive as downloaded: all of it belongs to ``source`` (``osv/PyPI``).

    Records are parsed as they are read, so only one raw record is in memory at a time.
    """
    return parse_records(iter_zip(data, source), source)


def parse_records(records: Iterable[Any], source: str) -> FeedData:
    advisories: list[AdvisoryRow] = []
    affected: list[AffectedRow] = []
    severities: list[SeverityRow] = []
    count = 0
    for record in records:
        if not looks_like(record):
            raise feed_error(source, "a member is not an OSV record (no id/modified)")
        count += 1
        _parse_record(record, source, advisories, affected, severities)
    return FeedData(
        feed=FEED,
        source=source,
        record_count=count,
        advisories=advisories,
        affected=affected,
        severities=severities,
    )


def _aliases(record: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for key in ("aliases", "upstream"):
        for alias in record.get(key) or []:
            if isinstance(alias, str) and alias not in seen and alias != record["id"]:
                seen.append(alias)
    return seen


def _severity_rows(adv_id: str, origin: str, items: Any) -> list[SeverityRow]:
    from imagetrust.match.feeds.cvss_score import score_vector  # the cvss library: parse only

    rows = []
    for item in items or []:
        if not isinstance(item, dict) or not isinstance(item.get("score"), str):
            continue
        kind, value = str(item.get("type", "")), item["score"]
        if kind.startswith("CVSS_"):
            score, rating = score_vector(value)
            rows.append(SeverityRow(adv_id, origin, kind, score, value, rating))
        else:  # e.g. Ubuntu priority words: "medium"
            rows.append(SeverityRow(adv_id, origin, kind, None, None, value.lower()))
    return rows


def _parse_record(
    record: dict[str, Any],
    source: str,
    advisories: list[AdvisoryRow],
    affected: list[AffectedRow],
    severities: list[SeverityRow],
) -> None:
    adv_id: str = record["id"]
    origin = adv_id.split("-")[0].lower()
    withdrawn = text(record.get("withdrawn"))
    advisories.append(
        AdvisoryRow(
            adv_id,
            dumps(_aliases(record), source),
            text(record.get("summary")) or _first_line(record.get("details")),
            text(record.get("published")),
            text(record.get("modified")),
            withdrawn,
            None,
        )
    )
    seen_sev: set[tuple[str, str | None, str | None]] = set()
    for row in _severity_rows(adv_id, origin, record.get("severity")):
        if (row.type, row.vector, row.rating) not in seen_sev:
            seen_sev.add((row.type, row.vector, row.rating))
            severities.append(row)
    db_specific = record.get("database_specific")
    if isinstance(db_specific, dict) and isinstance(db_specific.get("severity"), str):
        severities.append(
            SeverityRow(adv_id, origin, "database_specific", None, None,
                        db_specific["severity"].lower())
        )
    if withdrawn:
        return
    for aff in record.get("affected") or []:
        if not isinstance(aff, dict):
            continue
        pkg = aff.get("package") or {}
        name, eco_raw = pkg.get("name"), pkg.get("ecosystem")
        if not isinstance(name, str) or not isinstance(eco_raw, str):
            continue
        ecosystem = normalize_ecosystem(eco_raw)
        ranges = [
            {"type": r["type"], "events": r.get("events") or []}
            for r in aff.get("ranges") or []
            if isinstance(r, dict) and r.get("type") in _MATCHABLE_RANGES
        ]
        versions = [v for v in aff.get("versions") or [] if isinstance(v, str)]
        if not ranges and not versions:
            continue  # only GIT ranges, or nothing: no version of a package can match
        fixed = next(
            (e["fixed"] for r in ranges for e in r["events"]
             if isinstance(e, dict) and "fixed" in e),
            None,
        )
        extra = {
            k: aff[k] for k in ("ecosystem_specific", "database_specific") if aff.get(k)
        }
        affected.append(
            AffectedRow(
                ecosystem,
                normalize_name(ecosystem, name),
                adv_id,
                "affected",
                fixed,
                None,
                None,
                None,
                dumps(ranges, source),
                dumps(versions, source),
                dumps(extra, source),
            )
        )
        for row in _severity_rows(adv_id, origin, aff.get("severity")):
            if (row.type, row.vector, row.rating) not in seen_sev:
                seen_sev.add((row.type, row.vector, row.rating))
                severities.append(row)


def _first_line(details: object) -> str | None:
    if not isinstance(details, str) or not details.strip():
        return None
    return details.strip().splitlines()[0][:300]
