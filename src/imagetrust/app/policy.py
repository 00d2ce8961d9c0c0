"""``policy evaluate`` and ``policy show``: the organisation's policy, image by image.

Evaluation is ``check`` under the effective policy (the same engine ``check --policy`` uses),
kept as one row per image and rule. An image that cannot be opened is an entry with its error,
never a silent skip.
"""

from __future__ import annotations

from collections.abc import Sequence

from imagetrust.app.check import check_document
from imagetrust.app.runtime import Runtime
from imagetrust.app.scanning import database_scan
from imagetrust.assess.hub import HubClient
from imagetrust.errors import ImagetrustError
from imagetrust.policy.model import Level
from imagetrust.policy.policyfile import Policy
from imagetrust.report.document import PolicyDocument, PolicyEntry


def evaluate_images(
    targets: Sequence[str],
    *,
    runtime: Runtime,
    scan: bool = True,
    fail_on: Level = Level.NEEDS_ATTENTION,
    show_suppressed: bool = False,
) -> PolicyDocument:
    """Every enabled rule of the runtime's policy for each image, in the order given."""
    policy = runtime.policy()
    runtime.suppression()  # bad VEX or exceptions files fail before any download
    with runtime.scope():
        library = runtime.library()
    hub = HubClient.from_settings(runtime.settings)
    scan_fn = database_scan(runtime) if scan else None
    entries = []
    for target in targets:
        try:
            document = check_document(
                target, runtime=runtime, official=library, hub_client=hub, scan=scan_fn
            )
        except ImagetrustError as error:
            entries.append(PolicyEntry(target, None, None, error=str(error)))
            continue
        result = document.result
        vulns = result.assessment.vulnerabilities
        entries.append(PolicyEntry(
            target, document.copy, result.verdict.level, result.results,
            suppressed=vulns.suppressed if vulns is not None else (),
        ))
    return PolicyDocument(tuple(entries), policy.source, fail_on, show_suppressed)


def show_policy(runtime: Runtime) -> Policy:
    """The effective policy, each value with where it came from."""
    return runtime.policy()
