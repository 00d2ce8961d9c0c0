"""Release lifecycles, checked against dates the projects themselves announced.

Oracles: Debian 10 "buster" LTS ended on 2024-06-30 and Debian 12's LTS runs to 2028-06-30
(wiki.debian.org/LTS); Node.js 16 reached end of life on 2023-09-11 (nodejs.org, moved forward
for OpenSSL 1.1.1's end); Ubuntu 22.04's standard support ends in April 2027; Alpine 3.19's
branch support ended on 2025-11-01 (alpinelinux.org/releases). The shipped data file must agree.
"""

from __future__ import annotations

from datetime import date

import pytest

from imagetrust.assess.evidence import Outcome
from imagetrust.assess.lifecycle import lifecycle_evidence, os_release, runtime_releases
from imagetrust.catalog.model import OSInfo

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("os_id", "version", "cycle", "until", "ended"),
    [
        ("debian", "10", "10", date(2024, 6, 30), True),
        ("debian", "12", "12", date(2028, 6, 30), False),
        ("ubuntu", "22.04", "22.04", None, False),
        ("alpine", "3.19.1", "3.19", date(2025, 11, 1), True),
    ],
)
def test_os_releases(
    os_id: str, version: str, cycle: str, until: date | None, ended: bool
) -> None:
    found = os_release(OSInfo(os_id, version, None, None), TODAY)
    assert found is not None and found.cycle == cycle and found.ended is ended
    if until is not None:
        assert found.security_until == until
    else:
        assert found.security_until is not None and found.security_until.year == 2027


def test_unknown_os_or_version_is_none() -> None:
    assert os_release(OSInfo("someos", "1", None, None), TODAY) is None
    assert os_release(OSInfo("debian", None, None, None), TODAY) is None
    evidence = lifecycle_evidence((), OSInfo("someos", "1", None, None))
    assert evidence.outcome is Outcome.UNKNOWN and "someos 1" in evidence.summary


def test_runtimes_from_official_image_variables() -> None:
    found = {r.product: r for r in runtime_releases(
        {"NODE_VERSION": "16.20.2", "PYTHON_VERSION": "3.12.4", "PG_MAJOR": "12",
         "JAVA_VERSION": "jdk-21.0.5+11", "PATH": "/usr/bin"}, TODAY)}
    assert set(found) == {"node", "python", "postgres", "eclipse-temurin"}
    assert found["node"].cycle == "16" and found["node"].ended
    assert found["node"].security_until == date(2023, 9, 11)
    assert found["python"].cycle == "3.12" and not found["python"].ended
    assert found["eclipse-temurin"].cycle == "21"
    evidence = lifecycle_evidence(tuple(found.values()), None)
    assert evidence.outcome is Outcome.FAIL
    assert "node 16 is past its security support since 2023-09-11" in evidence.summary
