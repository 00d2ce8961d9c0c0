"""``cves --format json``: one self-describing object (image, database ages, findings, counts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imagetrust.jsonutil import dumps
from imagetrust.match.model import SEVERITIES, Coverage, Finding, ScanResult
from imagetrust.report.document import CvesDocument


def finding_json(f: Finding) -> dict[str, Any]:
    pkg = f.package
    return {
        "id": f.id,
        "aliases": list(f.aliases),
        "package": {
            "name": pkg.name,
            "version": pkg.version,
            "type": pkg.type,
            "purl": pkg.purl,
            "source_name": pkg.source_name,
            "source_version": pkg.source_version,
        },
        "fix_state": f.fix_state,
        "fixed_version": f.fixed_version,
        "distro_status": f.distro_status,
        "severity": f.severity,
        "severity_source": f.severity_source,
        "cvss": {"score": f.cvss.score, "vector": f.cvss.vector} if f.cvss else None,
        "kev": f.kev,
        "epss": f.epss,
        "summary": f.summary,
        "source": f.source,
    }


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    result = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        result[f.severity] += 1
    return result


def cves_json(result: ScanResult, findings: Sequence[Finding]) -> dict[str, Any]:
    os_info = result.os
    return {
        "image": {
            "reference": result.subject.reference,
            "digest": result.subject.digest,
            "os": (
                {"id": os_info.id, "version_id": os_info.version_id, "release": os_info.release,
                 "pretty_name": os_info.pretty_name}
                if os_info else None
            ),
        },
        "db": {
            "path": str(result.db_path) if result.db_path else None,
            "feeds": [
                {"name": a.name, "updated_at": a.updated_at,
                 "age_hours": round(a.age.total_seconds() / 3600, 1),
                 "records": a.record_count, "stale": a.stale}
                for a in result.feeds
            ],
        },
        "packages": len(result.packages),
        "findings": [finding_json(f) for f in findings],
        "counts": {"total": len(findings), **counts(findings)},
        "coverage": coverage_json(result.coverage),
        "warnings": list(result.warnings),
    }


def coverage_json(coverage: Coverage) -> dict[str, Any]:
    """How much of the image was judged: zero findings are clean only when ``full``."""
    return {
        "state": coverage.state,
        "judged_packages": coverage.judged,
        "reason": coverage.reason,
        "gaps": [{"what": g.what, "count": g.count, "reason": g.reason} for g in coverage.gaps],
    }


def suppressions_json(document: CvesDocument) -> dict[str, Any]:
    """What VEX and exceptions hid (and by what), expired exceptions, ended exceptions."""
    def package(f: Finding) -> dict[str, Any]:
        return {"name": f.package.name, "version": f.package.version, "type": f.package.type,
                "purl": f.package.purl}

    return {
        "suppressed": [
            {"id": s.finding.id, "aliases": list(s.finding.aliases),
             "package": package(s.finding), "severity": s.finding.severity,
             "fix_state": s.finding.fix_state, "kind": s.kind, "by": s.by, "status": s.status,
             "justification": s.justification, "detail": s.detail}
            for s in document.suppressed
        ],
        "expired_exceptions": [
            {"id": e.id, "by": e.label, "expires": e.expires.isoformat() if e.expires else None,
             "reason": e.reason, "author": e.author}
            for e in document.expired
        ],
        "ended_exceptions": [
            {"id": x.finding.id, "by": x.exception.label, "package": package(x.finding),
             "reason": x.reason}
            for x in document.ended
        ],
    }


def cves_text(document: CvesDocument) -> str:
    """``cves --format json``: versioned, saying which copy of the image was read."""
    body = cves_json(document.result, document.findings)
    body["image"]["source"] = document.copy.to_json()
    body.update(suppressions_json(document))
    return dumps({"schema_version": document.SCHEMA_VERSION, **body})
