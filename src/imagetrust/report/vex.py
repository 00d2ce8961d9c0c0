"""``cves --format cyclonedx-vex``: CycloneDX 1.6 with the affected packages and one vulnerability
per finding id, written with cyclonedx-python-lib so the output follows the schema.

Every finding is an *affected* statement (analysis state ``in_triage``: a scanner knows the
package is in range, not whether the code path is reachable); the fix state and distro status go
into ``analysis.detail`` and ``recommendation``. A finding a VEX statement suppressed gets its
own entry with state ``not_affected`` (or ``resolved`` for ``fixed``) and the justification; one
an exception accepted stays ``exploitable`` with response ``will_not_fix`` and the reason in
``detail`` (accepting a risk is not "not affected", and reading the output back must not
suppress it elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisAffectedStatus,
    ImpactAnalysisJustification,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from imagetrust import __version__
from imagetrust.catalog.model import Package
from imagetrust.match.model import Cvss, Finding, ScanResult
from imagetrust.report.document import CvesDocument

if TYPE_CHECKING:
    from imagetrust.policy.suppress import Suppressed

_SEVERITY = {
    "critical": VulnerabilitySeverity.CRITICAL,
    "high": VulnerabilitySeverity.HIGH,
    "medium": VulnerabilitySeverity.MEDIUM,
    "low": VulnerabilitySeverity.LOW,
    "negligible": VulnerabilitySeverity.INFO,
    "unknown": VulnerabilitySeverity.UNKNOWN,
}


def _source(identifier: str) -> VulnerabilitySource:
    if identifier.startswith("CVE-"):
        return VulnerabilitySource(name="NVD", url=XsUri(
            f"https://nvd.nist.gov/vuln/detail/{identifier}"))
    if identifier.startswith("GHSA-"):
        return VulnerabilitySource(name="GitHub", url=XsUri(
            f"https://github.com/advisories/{identifier}"))
    return VulnerabilitySource(name="OSV", url=XsUri(f"https://osv.dev/vulnerability/{identifier}"))


def _method(cvss: Cvss) -> VulnerabilityScoreSource:
    if cvss.type == "CVSS_V4":
        return VulnerabilityScoreSource.CVSS_V4
    if cvss.type == "CVSS_V2":
        return VulnerabilityScoreSource.CVSS_V2
    if cvss.vector and cvss.vector.startswith("CVSS:3.1"):
        return VulnerabilityScoreSource.CVSS_V3_1
    return VulnerabilityScoreSource.CVSS_V3


def _ratings(f: Finding) -> list[VulnerabilityRating]:
    ratings = [VulnerabilityRating(
        source=VulnerabilitySource(name=f.severity_source or "imagetrust"),
        severity=_SEVERITY[f.severity],
        method=VulnerabilityScoreSource.OTHER,
    )]
    if f.cvss is not None and f.cvss.score is not None:
        ratings.append(VulnerabilityRating(
            source=VulnerabilitySource(name=f.cvss.origin),
            score=Decimal(str(f.cvss.score)),
            method=_method(f.cvss),
            vector=f.cvss.vector,
        ))
    return ratings


def _ref(pkg: Package) -> str:
    return pkg.purl or f"{pkg.type}:{pkg.name}@{pkg.version}"


_JUSTIFICATION = {
    # OpenVEX / CSAF justification → CycloneDX's nearest word
    "component_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_in_execute_path": ImpactAnalysisJustification.CODE_NOT_REACHABLE,
    "vulnerable_code_cannot_be_controlled_by_adversary":
        ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL,
    "inline_mitigations_already_exist":
        ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL,
    **{j.value: j for j in ImpactAnalysisJustification},
}


def _suppressed_analysis(item: Suppressed) -> tuple[VulnerabilityAnalysis, bool]:
    """The analysis for a suppressed finding, and whether the package counts as unaffected."""
    detail = f"{item.kind} {item.status} by {item.by}"
    if item.kind == "exception":
        detail += f": {item.justification}" + (f" ({item.detail})" if item.detail else "")
        return VulnerabilityAnalysis(
            state=ImpactAnalysisState.EXPLOITABLE,
            responses=[ImpactAnalysisResponse.WILL_NOT_FIX], detail=detail,
        ), False
    if item.justification and item.justification not in _JUSTIFICATION:
        detail += f"; justification: {item.justification}"
    if item.detail:
        detail += f"; {item.detail}"
    fixed = item.status == "fixed"
    return VulnerabilityAnalysis(
        state=ImpactAnalysisState.RESOLVED if fixed else ImpactAnalysisState.NOT_AFFECTED,
        justification=None if fixed else _JUSTIFICATION.get(item.justification or ""),
        detail=detail,
    ), True


def _suppressed_vulnerabilities(suppressed: Sequence[Suppressed]) -> list[Vulnerability]:
    out: list[Vulnerability] = []
    for n, item in enumerate(suppressed):
        f = item.finding
        analysis, unaffected = _suppressed_analysis(item)
        status = (ImpactAnalysisAffectedStatus.UNAFFECTED if unaffected
                  else ImpactAnalysisAffectedStatus.AFFECTED)
        out.append(Vulnerability(
            bom_ref=f"vuln:{f.id}:suppressed:{n}",
            id=f.id,
            source=_source(f.id),
            references=[VulnerabilityReference(id=a, source=_source(a)) for a in f.aliases],
            ratings=_ratings(f),
            description=f.summary,
            analysis=analysis,
            affects=[BomTarget(ref=_ref(f.package), versions=[BomTargetVersionRange(
                version=f.package.version, status=status)])],
        ))
    return out


def cyclonedx_vex_bom(result: ScanResult, findings: Sequence[Finding],
                      suppressed: Sequence[Suppressed] = ()) -> Bom:
    bom = Bom()
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="imagetrust", version=__version__)
    )
    root = Component(
        type=ComponentType.CONTAINER, name=result.subject.reference,
        version=result.subject.digest, bom_ref="image",
    )
    bom.metadata.component = root
    components: dict[str, Component] = {}
    for f in (*findings, *(item.finding for item in suppressed)):
        ref = _ref(f.package)
        if ref not in components:
            purl = None
            try:
                purl = PackageURL.from_string(f.package.purl) if f.package.purl else None
            except ValueError:
                purl = None
            components[ref] = Component(
                type=ComponentType.LIBRARY, name=f.package.name, version=f.package.version,
                purl=purl, bom_ref=ref,
            )
            bom.components.add(components[ref])
    bom.register_dependency(root, list(components.values()))
    for comp in components.values():
        bom.register_dependency(comp)
    by_id: dict[str, list[Finding]] = {}
    for f in findings:
        by_id.setdefault(f.id, []).append(f)
    for vuln_id, items in sorted(by_id.items()):
        first = items[0]
        fixes = sorted({f"{f.package.name} {f.fixed_version}" for f in items if f.fixed_version})
        details = sorted({f"{f.package.name}: {f.fix_state}"
                          + (f" ({f.distro_status})" if f.distro_status else "") for f in items})
        bom.vulnerabilities.add(Vulnerability(
            bom_ref=f"vuln:{vuln_id}",
            id=vuln_id,
            source=_source(vuln_id),
            references=[VulnerabilityReference(id=a, source=_source(a)) for a in first.aliases],
            ratings=_ratings(first),
            description=first.summary,
            recommendation=("Upgrade to " + ", ".join(fixes)) if fixes else None,
            analysis=VulnerabilityAnalysis(
                state=ImpactAnalysisState.IN_TRIAGE, detail="; ".join(details),
            ),
            affects=[
                BomTarget(ref=_ref(f.package), versions=[BomTargetVersionRange(
                    version=f.package.version, status=ImpactAnalysisAffectedStatus.AFFECTED)])
                for f in items
            ],
            properties=[Property(name="imagetrust:kev", value="true")] if first.kev else None,
        ))
    for vulnerability in _suppressed_vulnerabilities(suppressed):
        bom.vulnerabilities.add(vulnerability)
    return bom


def cyclonedx_vex_json(result: ScanResult, findings: Sequence[Finding],
                       suppressed: Sequence[Suppressed] = ()) -> str:
    return JsonV1Dot6(cyclonedx_vex_bom(result, findings, suppressed)).output_as_string(
        indent=2)


def cves_vex(document: CvesDocument) -> str:
    """``cves --format cyclonedx-vex``."""
    return cyclonedx_vex_json(document.result, document.findings, document.suppressed)
