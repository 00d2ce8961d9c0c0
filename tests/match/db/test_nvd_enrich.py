"""NVD on demand: only the CVEs asked for, rate-limited, cached in the database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imagetrust.errors import FeedError
from imagetrust.match.db import RateLimiter, VulnDB, enrich_nvd
from tests.support.feedserver import serve


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_sliding_window() -> None:
    fake = FakeClock()
    gate = RateLimiter(5, 30.0, clock=fake.clock, sleep=fake.sleep)
    for _ in range(5):
        gate.wait()
        fake.now += 1.0  # five requests at t=0..4
    assert fake.sleeps == []
    gate.wait()  # sixth at t=5 must wait until the first leaves the window (t=30)
    assert fake.sleeps == [pytest.approx(25.0)]
    fake.now += 40.0
    gate.wait()
    assert len(fake.sleeps) == 1


def test_enrich_fetches_only_missing_cves(tmp_path: Path, test_data: Path) -> None:
    api = tmp_path / "srv" / "rest/json/cves/2.0"
    api.mkdir(parents=True)
    wanted = ["CVE-2016-1585", "CVE-2023-4863", "CVE-2024-3094", "CVE-2022-0090",
              "CVE-2014-1424", "CVE-2017-6507"]
    for cve in wanted:
        shutil.copy(test_data / "nvd/api2.0/osvdev-nvdcve-2.0" / f"{cve}.json", api)
    fake = FakeClock()
    db = tmp_path / "v.sqlite"
    with serve(tmp_path / "srv") as server:
        base = f"{server.url}/rest/json/cves/2.0"
        gate = RateLimiter(5, 30.0, clock=fake.clock, sleep=fake.sleep)
        result = enrich_nvd(db, [*wanted, "CVE-2099-0001", "GHSA-xxxx"], base_url=base,
                            limiter=gate, api_key="secret-key")
        assert sorted(result.fetched) == sorted(wanted)
        assert result.missing == ("CVE-2099-0001",)  # 404 from the server
        # 7 requests at a frozen clock: five at once, then one 30 s wait for the window to pass
        assert len(server.hits) == 7 and fake.sleeps == [pytest.approx(30.0)]
        assert all(h.headers.get("apiKey") == "secret-key" for h in server.hits)
        again = enrich_nvd(db, [*wanted, "CVE-2099-0001"], base_url=base, limiter=gate)
        assert again.cached == 7 and again.fetched == () and len(server.hits) == 7
    with VulnDB.open(db) as vdb:
        sev = vdb.severities(["CVE-2023-4863"])["CVE-2023-4863"]
        assert ("CVSS_V3", 8.8) in {(s.type, s.score) for s in sev}


def test_enrich_failure_keeps_database(tmp_path: Path) -> None:
    (tmp_path / "srv/api").mkdir(parents=True)
    (tmp_path / "srv/api/CVE-2024-0001.json").write_text("{not json")
    with serve(tmp_path / "srv") as server, pytest.raises(FeedError, match="nvd"):
        enrich_nvd(tmp_path / "v.sqlite", ["CVE-2024-0001"], base_url=f"{server.url}/api")
    assert not (tmp_path / "v.sqlite").exists()
