"""``imagetrust dockerfile pin|check`` on real Dockerfiles against the suite's real registry.

The expected pinned file is assembled here from the template's pieces, independently of the
parser: every byte outside the marked references must come out identical (CRLF endings,
multi-byte UTF-8 in a comment, trailing blanks, heredocs and continuations included). Digests come
from the fixture layout (pushed with ``--preserve-digests``); a multi-platform image is pinned
by its index digest.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from tests.support.images import FixtureImages
from tests.support.registry import RegistryServer, start_registry
from tests.support.schemas import validate

MARK = re.compile(r"«([^»]*)»")

TEMPLATE = """# syntax=docker/dockerfile:1
# FROM in a comment stays: debian:12
ARG BASE=«{host}/library/debian:12»
ARG TAG=1.0
FROM --platform=$BUILDPLATFORM «{host}/myapp:1.0» AS build   \t
RUN echo building \\
  # a comment inside the continuation: FROM nothing:1
  && true
RUN <<EOT
FROM heredoc:1
EOT
FROM ${{BASE}} AS runtime
# caf\xe9 and \u2603: multi-byte UTF-8 before a reference
FROM --platform=linux/arm64 \\
     «{host}/multiarch:${{TAG}}» AS arm
FROM build AS test
FROM scratch
COPY --from=runtime /etc/os-release /
FROM «debian:12»
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def render(template: str, host: str, digests: dict[str, str], *, crlf: bool) -> tuple[bytes,
                                                                                       bytes]:
    """(original, expected after pin): markers replaced by the text, or text@digest."""
    text = template.format(host=host)

    def original(match: re.Match[str]) -> str:
        return match[1]

    def pinned(match: re.Match[str]) -> str:
        return f"{match[1]}@{digests[match[1]]}"

    before, after = MARK.sub(original, text), MARK.sub(pinned, text)
    if crlf:
        before, after = before.replace("\n", "\r\n"), after.replace("\n", "\r\n")
    return before.encode(), after.encode()


def digests_for(images: FixtureImages, host: str) -> dict[str, str]:
    rebuild = images.manifest_digest("base-rebuild")  # debian:12 was pushed last
    return {
        f"{host}/library/debian:12": rebuild,
        "debian:12": rebuild,
        f"{host}/myapp:1.0": images.manifest_digest("app"),
        f"{host}/multiarch:${{TAG}}": images.manifest_digest("multiarch"),  # the index
    }


@pytest.mark.parametrize("crlf", [False, True])
def test_pin_rewrites_only_the_references(
    images: FixtureImages,
    fixture_registry: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    crlf: bool,
) -> None:
    server, _ = fixture_registry
    mirror = ("--registry-mirror", f"docker.io=http://{server.host}")
    before, expected = render(TEMPLATE, server.host, digests_for(images, server.host), crlf=crlf)
    path = tmp_path / "Dockerfile"
    path.write_bytes(before)
    path.chmod(0o640)

    code, diff, err = run(capsys, "dockerfile", "pin", "--dry-run", *mirror, str(path))
    assert code == 0, err
    assert path.read_bytes() == before  # a dry run writes nothing
    assert diff.startswith("--- a/Dockerfile")
    copy = tmp_path / "patched" / "Dockerfile"
    copy.parent.mkdir()
    copy.write_bytes(before)
    patched = subprocess.run(["patch", "-s", str(copy)], input=diff.encode(),
                             capture_output=True, check=False)
    if not crlf:  # patch applies the diff to the LF file exactly
        assert patched.returncode == 0, patched.stderr
        assert copy.read_bytes() == expected

    code, out, err = run(capsys, "dockerfile", "pin", "--format", "json", *mirror, str(path))
    assert code == 0, err
    document = json.loads(out)
    validate("dockerfile", document)
    assert path.read_bytes() == expected
    assert path.stat().st_mode & 0o777 == 0o640
    actions = {pin["line"]: pin["action"] for pin in document["pins"]}
    assert actions == {5: "pinned", 12: "pinned", 14: "pinned", 19: "pinned"}
    by_line = {pin["line"]: pin for pin in document["pins"]}
    assert by_line[12]["via_arg"] == "BASE"  # written into the ARG default on line 3
    assert by_line[14]["note"] and "build arguments" in by_line[14]["note"]

    # a second run changes nothing; --update refreshes to the same digests: unchanged
    code, out, err = run(capsys, "dockerfile", "pin", "--format", "json", *mirror, str(path))
    assert code == 0, err
    assert {p["action"] for p in json.loads(out)["pins"]} == {"kept"}
    code, out, err = run(capsys, "dockerfile", "pin", "--update", "--format", "json", *mirror,
                         str(path))
    assert code == 0, err
    assert {p["action"] for p in json.loads(out)["pins"]} == {"unchanged"}
    assert path.read_bytes() == expected


def test_update_refreshes_a_stale_pin_and_keeps_it_otherwise(
    images: FixtureImages, fixture_registry: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, _ = fixture_registry
    old, new = images.manifest_digest("base"), images.manifest_digest("base-rebuild")
    path = tmp_path / "Dockerfile"
    text = f"FROM {server.host}/library/debian:12@{old}  AS base\nRUN true\n"
    path.write_text(text)
    code, _, err = run(capsys, "dockerfile", "pin", str(path))
    assert code == 0, err
    assert path.read_text() == text
    code, out, err = run(capsys, "dockerfile", "pin", "--update", str(path))
    assert code == 0, err
    assert path.read_text() == text.replace(old, new)
    assert "updated" in out


def test_unparseable_or_unresolvable_dockerfile_is_left_untouched(
    fixture_registry: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = fixture_registry
    path = tmp_path / "Dockerfile"
    for text in (
        f"FROM {server.host}/myapp:1.0\nFROM --pull=always debian:12\n",
        f"FROM {server.host}/myapp:1.0\nFROM {server.host}/nothing-here:1\n",
    ):
        path.write_text(text)
        stat = path.stat()
        code, out, err = run(capsys, "dockerfile", "pin", str(path))
        assert code == 1 and out == ""
        assert len(err.strip().splitlines()) == 1 and "line 2" in err
        assert "Traceback" not in err
        assert path.read_text() == text and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]  # no temp file left


def test_check_reports_rules_and_exit_code(
    images: FixtureImages, test_data: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_registry(tmp_path / "registry")
    try:
        _check(images, server, test_data, tmp_path, capsys)
    finally:
        server.stop()


def _check(images: FixtureImages, server: RegistryServer, test_data: Path, tmp_path: Path,
           capsys: pytest.CaptureFixture[str]) -> None:
    for tag in ("12", "stretch"):  # stretch is no longer in the library: unsupported
        subprocess.run(
            ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
             "--preserve-digests", f"oci:{images.layout}:base",
             f"docker://{server.host}/library/debian:{tag}"], check=True,
        )
    code, _, err = run(capsys, "catalog", "import", str(test_data / "official-images"))
    assert code == 0, err
    digest = images.manifest_digest("base")
    path = tmp_path / "Dockerfile"
    path.write_text(
        f"FROM debian:12@{digest} AS pinned\nFROM debian:stretch AS old\nFROM pinned\n"
        "FROM scratch\n"
    )
    mirror = ("--registry-mirror", f"docker.io=http://{server.host}")
    code, out, err = run(capsys, "dockerfile", "check", "--no-scan", "--format", "json",
                         *mirror, str(path))
    assert code == 0, err
    document = json.loads(out)
    validate("dockerfile", document)
    bases = {b["line"]: b for b in document["bases"]}
    assert set(bases) == {1, 2}
    assert bases[1]["pinned"] is True and bases[1]["publisher"] == "official"
    assert bases[1]["supported_tag"] == "supported" and bases[1]["freshness"] == "current"
    assert bases[1]["failed"] == []
    assert bases[2]["pinned"] is False and bases[2]["supported_tag"] == "unsupported"
    assert bases[2]["failed"] == ["unpinned", "unsupported-tag"]
    assert "supported tag" in bases[2]["recommendation"]
    kinds = [(s["line"], s["kind"]) for s in document["stages"]]
    assert kinds == [(1, "external"), (2, "external"), (3, "stage"), (4, "scratch")]

    code, out, err = run(capsys, "dockerfile", "check", "--no-scan", "--exit-code", *mirror,
                         str(path))
    assert code == 2
    assert "line 2 debian:stretch: unpinned, unsupported-tag" in err
