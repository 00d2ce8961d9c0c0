"""Suite-wide fixtures (shared test data location, per-test isolated caches) and test lanes.

Nothing here reaches the network: servers the tests need run on 127.0.0.1.

Lanes: a test is marked ``slow`` from the fixtures it uses (directly or through other fixtures)
when they build images, start registries or podman, run Syft, Trivy or npm, or build a
vulnerability database behind a feed server; and by name when it measured over about a second on
its own. ``pytest -m "not slow"`` then runs the pure-Python tests in well under a minute.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEAD_URL = "http://127.0.0.1:9"
"""The discard port: nothing listens there, so a stray request fails at once, locally."""


def shared_data_dir() -> Path:
    """``IMAGETRUST_TEST_DATA`` or ``../shared/data`` next to the checkout."""
    env = os.environ.get("IMAGETRUST_TEST_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The real public test data; tests that need it skip with the reason when it is absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path} (set IMAGETRUST_TEST_DATA)")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own cache and config so no test sees another's state or the user's."""
    monkeypatch.setenv("IMAGETRUST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("IMAGETRUST_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    # Every internet default points at a closed loopback port, so no test can reach out even by
    # mistake; tests that need a server start one on 127.0.0.1 and override these.
    for name in (
        "IMAGETRUST_HUB_URL",
        "IMAGETRUST_FEED_BASE_URL",
        "IMAGETRUST_NVD_URL",
        "IMAGETRUST_CATALOG_URL",
        "IMAGETRUST_DOCKER_HUB_URL",
        "IMAGETRUST_LIFECYCLE_URL",
    ):
        monkeypatch.setenv(name, DEAD_URL)
    monkeypatch.delenv("IMAGETRUST_FEED_URLS", raising=False)
    monkeypatch.delenv("NVD_API_KEY", raising=False)
    for name in (
        "IMAGETRUST_REGISTRY_MIRRORS",
        "IMAGETRUST_INSECURE_REGISTRIES",
        "IMAGETRUST_DB",
        "IMAGETRUST_PLATFORM",
        "IMAGETRUST_OFFLINE",
        "IMAGETRUST_SOURCE",
        "IMAGETRUST_POLICY",
        "DOCKER_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    # One run per test: an endpoint that went dead in one test stays usable in the next.
    from imagetrust.http.breaker import run_scope

    with run_scope():
        yield


@pytest.fixture(scope="session")
def images() -> object:
    """Real images built by the suite from Debian packages (debootstrap + umoci + skopeo).

    Built once and cached between runs (see tests/support/images.py); concurrent runs wait on a
    lock instead of building twice.
    """
    from tests.support.images import fixture_images

    return fixture_images()


@pytest.fixture(scope="session")
def fixture_registry(images: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One real registry (no auth, 127.0.0.1) holding every fixture image, shared by the session.

    Yields ``(server, pushed)``: the RegistryServer and push_fixtures' name → reference map.
    """
    from tests.support.images import push_fixtures
    from tests.support.registry import start_registry

    server = start_registry(tmp_path_factory.mktemp("fixture-registry"), "none")
    try:
        yield server, push_fixtures(images, server.host)  # type: ignore[arg-type]
    finally:
        server.stop()


# --- lanes -----------------------------------------------------------------------------------

pytest_plugins = ["pytester"]  # tests/test_lanes.py runs the hook below in an inner session

SLOW_FIXTURES: dict[str, tuple[str, ...]] = {
    # debootstrap + umoci + skopeo images (minutes to build once, then read from disk), and
    # everything scanned from them: layer catalogs, podman's and the registries' worlds.
    "images": ("slow", "fixtures"),
    # A docker-registry process each (fixture_registry also pushes every fixture image).
    "fixture_registry": ("slow", "registry"),
    "registry": ("slow", "registry"),
    "basic_registry": ("slow", "registry"),
    "token_registry": ("slow", "registry"),
    "world": ("slow", "registry"),
    # Peers run as real programs: Syft and Trivy (tests/catalog/test_peers.py, test_sbom_input),
    # npm install from its cache (test_node).
    "peer_boms": ("slow",),
    "trivy_cache": ("slow",),
    "syft_outputs": ("slow",),
    "npm_project": ("slow",),
    # A feed server in front of a mirror, and the vulnerability database built from it.
    "feeds": ("slow",),
}
"""Fixture name → markers of every test that uses it (pytest resolves the fixture closure, so
a fixture built on ``images`` marks its users too). Names are matched wherever defined: each
name here means the same kind of fixture in every module that defines it."""

SLOW_TESTS = frozenset({
    # Measured alone over about 1 s (``pytest --durations=0``, 2026-12-02, load average ~1).
    "tests/versions/test_dpkg_sortable.py::test_text_order_is_dpkg_order",  # 5.7 s, dpkg
    "tests/versions/test_differential.py::test_dpkg_generated",  # 3 s, one dpkg fork per pair
    "tests/image/test_hardening.py::test_zero_filled_jars_stay_within_a_memory_bound",  # 4.3 s
    "tests/match/db/test_status_store.py::test_lookup_uses_the_index_and_is_fast",  # 3.1 s
    "tests/versions/test_upstream_vectors.py::test_rpm_autotest_vectors",  # 2.2 s
    "tests/match/db/test_schema_change.py::test_full_update_rebuilds_a_database_of_another_schema",
    "tests/versions/test_oracles.py::test_dpkg_against_dpkg",  # 1.7 s, dpkg
    "tests/match/db/test_update.py::test_kill_during_build_keeps_previous_database",  # 1.0 s
    "tests/match/test_matchers.py::test_npm_unsorted_events_mixin_deep",  # 0.4-1.0 s each of 5
})
"""Node ids (without parameters) of tests that are slow without any of the fixtures above."""

SLOW_SECONDS = 1.0
"""A test outside the slow lane that takes longer than this is named at the end of the run."""


def lane_markers(nodeid: str, fixturenames: Iterable[str]) -> list[str]:
    """The markers the lanes add to a test (empty for a fast one)."""
    markers = [m for name in fixturenames for m in SLOW_FIXTURES.get(name, ())]
    if nodeid.split("[", 1)[0] in SLOW_TESTS:
        markers.append("slow")
    return list(dict.fromkeys(markers))


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in lane_markers(item.nodeid, getattr(item, "fixturenames", ())):
            item.add_marker(marker)


_unmarked_slow: list[tuple[float, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.duration > SLOW_SECONDS and "slow" not in report.keywords:
        _unmarked_slow.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Keeps the fast lane fast: names tests that should join SLOW_TESTS or SLOW_FIXTURES."""
    if _unmarked_slow:
        terminalreporter.section("tests over 1 s not marked slow (tests/conftest.py)")
        for duration, nodeid in sorted(_unmarked_slow, reverse=True):
            terminalreporter.write_line(f"{duration:5.2f}s {nodeid}")
