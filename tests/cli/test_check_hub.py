"""``check`` asks Docker Hub for publisher badges of non-library Docker Hub images.

MOCKED: Docker Hub's web API (``/api/search/v3/catalog/search``) cannot exist here, so a local
http.server on 127.0.0.1 answers with canned JSON shaped like Hub's search results. Everything
else (registry as the docker.io mirror, the image, the official catalog) is real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.assess.httpserver import serve
from tests.assess.test_hub import hub_search
from tests.support.images import FixtureImages


def test_verified_publisher_badge_reaches_the_verdict(
    images: FixtureImages, fixture_registry: Any, tmp_path: Path, test_data: Path
) -> None:
    server, _ = fixture_registry
    pushed = subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
         "--preserve-digests", f"oci:{images.layout}:base",
         f"docker://{server.host}/bitnami/nginx:1"],
        capture_output=True, text=True,
    )
    assert pushed.returncode == 0, pushed.stderr
    with serve({"/api/search/v3/catalog/search": hub_search}) as hub:
        env = {**os.environ, "IMAGETRUST_CACHE_DIR": str(tmp_path / "c"),
               "IMAGETRUST_HUB_URL": hub.url}
        base = [sys.executable, "-m", "imagetrust"]
        subprocess.run([*base, "catalog", "import", str(test_data / "official-images")],
                       env=env, check=True, capture_output=True)
        result = subprocess.run(
            [*base, "check", "--format", "json", "--no-scan", "--source", "registry",
             "--registry-mirror", f"docker.io=http://{server.host}", "bitnami/nginx:1"],
            env=env, capture_output=True, text=True, timeout=300,
        )
        assert any(path.startswith("/api/search/") for path, _ in hub.requests)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    publisher = next(e for e in data["evidence"] if e["signal"] == "publisher")
    assert publisher["details"]["tier"] == "verified-publisher"
    assert data["level"] != "unknown"  # an established publisher starts at trusted
