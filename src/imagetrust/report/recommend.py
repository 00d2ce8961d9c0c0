"""``imagetrust recommend`` output: refresh first, then the candidates in ranking order."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from imagetrust.assess.model import SEVERITIES
from imagetrust.jsonutil import dumps, valid_text
from imagetrust.report.document import (
    Candidate,
    RecommendDocument,
    Refresh,
    ScannedTag,
    SeverityDelta,
)

_CH = ("critical", "high")


def _iso(scanned: ScannedTag) -> str | None:
    return scanned.created.isoformat().replace("+00:00", "Z") if scanned.created else None


def scanned_json(scanned: ScannedTag) -> dict[str, Any]:
    v = scanned.vulnerabilities
    return {
        "tag": scanned.tag,
        "reference": scanned.reference,
        "digest": scanned.digest,
        "created": _iso(scanned),
        "age_days": scanned.age_days,
        "size": scanned.size,
        "packages": scanned.packages,
        "os": scanned.os,
        "lifecycle": [
            {"product": r.product, "kind": r.kind, "cycle": r.cycle, "lts": r.lts,
             "ended": r.ended,
             "security_until": r.security_until.isoformat() if r.security_until else None}
            for r in scanned.lifecycle
        ],
        "vulnerabilities": {
            "total": len(v),
            "by_severity": {s: v.by_severity.get(s, 0) for s in SEVERITIES},
            "fixable": {s: v.fixable_count(s) for s in SEVERITIES},
            "kev": v.kev_count,
            "coverage": v.coverage,
        },
    }


def delta_json(delta: SeverityDelta) -> dict[str, Any]:
    return {
        "by_severity": delta.by_severity(),
        "fixed": len(delta.fixed),
        "introduced": len(delta.introduced),
        "fixed_ids": sorted({f.id for f in delta.fixed}),
        "introduced_ids": sorted({f.id for f in delta.introduced}),
        "fixable_critical_high_removed": list(delta.fixable_ids("fixed", _CH)),
        "fixable_critical_high_introduced": list(delta.fixable_ids("introduced", _CH)),
    }


def _refresh_json(refresh: Refresh | None) -> dict[str, Any] | None:
    if refresh is None:
        return None
    return {
        "tag": refresh.tag,
        "state": refresh.state,
        "reason": refresh.reason,
        "scanned_digest": refresh.scanned_digest,
        "current_digest": refresh.current.digest if refresh.current else None,
        "current": scanned_json(refresh.current) if refresh.current else None,
        "delta": delta_json(refresh.delta) if refresh.delta else None,
    }


def _candidate_json(rank: int, c: Candidate, current: ScannedTag | None) -> dict[str, Any]:
    f = c.facts
    return {
        "rank": rank,
        "tag": c.scanned.tag,
        "recommended": c.recommended,
        "why": c.why,
        **{k: v for k, v in scanned_json(c.scanned).items() if k != "tag"},
        "delta": delta_json(c.delta),
        "size_delta": f.size_delta,
        "package_delta": c.package_delta,
        "version_change": f.version_change,
        "os_change": f.os_change,
        "runtime_change": c.runtime_change,
        "supported": f.supported,
        "end_of_life": f.end_of_life,
        "lts": f.lts,
        "same_os_family": f.same_os_family,
        "fixable_critical_high": f.fixable_critical_high,
    }


def recommend_json(document: RecommendDocument) -> dict[str, Any]:
    return {
        "schema_version": document.SCHEMA_VERSION,
        "image": document.image,
        "base": {"reference": document.base, "how": document.base_how},
        "current": scanned_json(document.current) if document.current else None,
        "refresh": _refresh_json(document.refresh),
        "candidates": [_candidate_json(i, c, document.current)
                       for i, c in enumerate(document.candidates, 1)],
        "notes": list(document.notes),
    }


def recommend_text(document: RecommendDocument) -> str:
    return dumps(recommend_json(document))


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _delta_cell(delta: SeverityDelta) -> str:
    by = delta.by_severity()
    return " ".join(f"{s[0].upper()}{_signed(by[s])}" for s in ("critical", "high", "medium",
                                                                  "low") if by[s]) or "±0"


def _life(scanned: ScannedTag) -> str:
    ended = [r.label for r in scanned.lifecycle if r.ended]
    return "EOL: " + ", ".join(ended) if ended else "supported" if scanned.lifecycle else "?"


def render_recommend(document: RecommendDocument, console: Console) -> None:
    console.print(f"[bold]{document.image}[/]: advice for {document.base} "
                  f"({document.base_how})")
    refresh = document.refresh
    if refresh is not None:
        console.print(f"Refresh: {refresh.state} — {refresh.reason}")
        if refresh.delta is not None:
            removed = refresh.delta.fixable_ids("fixed", _CH)
            if removed:
                console.print(f"  fixes critical/high: {', '.join(removed)}")
    if document.candidates:
        table = Table(title="Update candidates (best first)", title_justify="left")
        for column in ("#", "tag", "vulns Δ", "fixable C/H", "size Δ", "pkgs Δ", "version",
                       "OS", "lifecycle", "age", "recommended"):
            table.add_column(column, overflow="fold")
        for index, c in enumerate(document.candidates, 1):
            f = c.facts
            table.add_row(
                str(index), c.scanned.tag, _delta_cell(c.delta), str(f.fixable_critical_high),
                f"{f.size_delta / 1e6:+.1f} MB", _signed(c.package_delta), f.version_change,
                f"{c.scanned.os or '?'} ({f.os_change})", _life(c.scanned),
                f"{c.scanned.age_days}d" if c.scanned.age_days is not None else "?",
                "yes" if c.recommended else "no",
            )
        console.print(table)
        best = next((c for c in document.candidates if c.recommended), None)
        if best is not None and best.why:
            console.print(f"Ranked first because: {best.why}")
    for note in document.notes:
        console.print(f"[yellow]note:[/] {note}")


def recommend_markdown(document: RecommendDocument) -> str:
    lines = [f"## Recommendations for `{document.image}`", "",
             f"Advice for `{document.base}` ({document.base_how}).", ""]
    if document.refresh is not None:
        lines += [f"**Refresh:** {document.refresh.state} — {document.refresh.reason}", ""]
    if document.candidates:
        lines += ["| # | Tag | Vulns Δ | Fixable C/H | Size Δ | Version | OS | Lifecycle | "
                  "Recommended |", "|---|---|---|---|---|---|---|---|---|"]
        for index, c in enumerate(document.candidates, 1):
            f = c.facts
            lines.append(
                f"| {index} | `{c.scanned.tag}` | {_delta_cell(c.delta)} | "
                f"{f.fixable_critical_high} | {f.size_delta / 1e6:+.1f} MB | {f.version_change} "
                f"| {c.scanned.os or '?'} ({f.os_change}) | {_life(c.scanned)} | "
                f"{'yes' if c.recommended else 'no'} |"
            )
    lines += [f"- note: {n}" for n in document.notes]
    return valid_text("\n".join(lines) + "\n")
