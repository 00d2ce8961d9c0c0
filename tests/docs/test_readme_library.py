"""Every Python example in the README's "Library" section runs as written.

The examples name ``postgres:16``; here each runs against the suite's own image (a docker-save
archive of the Debian-based app image) with a vulnerability database imported from the shared
Debian tracker sample, and without a Docker daemon (the audit example must then fail with the
one clear error a user would get).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imagetrust.cli.main import main
from imagetrust.errors import NetworkError
from tests.support.images import FixtureImages

README = Path(__file__).resolve().parents[2] / "README.md"


def library_examples() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Library"):text.index("## Layout")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_library_section_shows_each_use_case() -> None:
    code = "\n".join(library_examples())
    for name in ("inspect", "sbom", "cves", "check", "audit", "read_inventory", "scan_inventory"):
        assert "import" in code and re.search(rf"\b{name}\(", code), name


@pytest.mark.parametrize("example", library_examples(), ids=lambda e: e.split("\n")[0][:40])
def test_library_example_runs(
    example: str,
    images: FixtureImages,
    test_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IMAGETRUST_DB", str(tmp_path / "vuln.sqlite"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    tracker = test_data / "debian/osvdev-debian_security_tracker_mock.json"
    assert main(["db", "import", str(tracker)]) == 0
    code = example.replace('"postgres:16"', repr(f"docker-archive:{images.app_archive}"))
    if "audit()" in code:
        with pytest.raises(NetworkError, match="audit needs a Docker daemon"):
            exec(compile(code, "README", "exec"), {})
        return
    exec(compile(code, "README", "exec"), {})
    assert capsys.readouterr().out.strip()
