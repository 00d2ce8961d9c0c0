"""The Dockerfile FROM parser: BuildKit's reading of stages, ARGs, platforms and line syntax,
and byte spans that point exactly at each reference (checked by slicing the raw bytes)."""

from __future__ import annotations

import pytest

from imagetrust.errors import UsageError
from imagetrust.oci.content import Platform
from imagetrust.reference.dockerfile import DockerfileError, expand, parse_dockerfile

DOCKERFILE = b"""# syntax=docker/dockerfile:1
# FROM in a comment: notanimage:1
ARG BASE=debian:12-slim
ARG PG=16 NODE="node:20"
FROM --platform=$BUILDPLATFORM golang:1.22 AS Build
RUN echo hi \\
  # FROM inside a continuation comment
  && true
RUN <<EOT
FROM heredoc:1
EOT
FROM postgres:${PG} \\
  AS db
FROM ${BASE}
FROM build AS final
FROM scratch
FROM --platform=linux/arm64 \\
    alpine:3.19@sha256:0000000000000000000000000000000000000000000000000000000000000000
FROM ${NODE}
"""


def test_stages_args_platforms_and_spans() -> None:
    parsed = parse_dockerfile(DOCKERFILE)
    rows = [(f.line, f.kind, f.image, f.name, f.platform) for f in parsed.froms]
    assert rows == [
        (5, "external", "golang:1.22", "build", "linux/amd64"),
        (12, "external", "postgres:16", "db", None),
        (14, "external", "debian:12-slim", None, None),
        (15, "stage", "build", "final", None),
        (16, "scratch", "scratch", None, None),
        (17, "external", "alpine:3.19@sha256:" + "0" * 64, None, "linux/arm64"),
        (19, "external", "node:20", None, None),
    ]
    assert parsed.froms[3].stage_ref == 0  # "build" names stage 0 ("Build", case-insensitive)
    spans = [DOCKERFILE[f.span.start:f.span.end] for f in parsed.external() if f.span]
    assert spans == [b"golang:1.22", b"postgres:${PG}", b"debian:12-slim",
                     b"alpine:3.19@sha256:" + b"0" * 64, b"node:20"]
    via = {f.image: f.via_arg for f in parsed.external()}
    assert via["debian:12-slim"] == "BASE" and via["node:20"] == "NODE"
    assert parsed.froms[1].templated and not parsed.froms[2].templated
    assert parsed.froms[5].platform_value == Platform("linux", "arm64")


def test_escape_directive_crlf_bom_and_non_utf8_bytes() -> None:
    # with ` as the escape, a trailing backslash (a Windows path) is an ordinary character
    data = (b"\xef\xbb\xbf# escape=`\r\n# caf\xe9 latin-1 comment\r\nFROM `\r\n"
            b"  debian:12 `\r\n  AS x\r\nRUN dir c:\\ \r\n")
    parsed = parse_dockerfile(data)
    (line,) = parsed.froms
    assert (line.image, line.name, line.line) == ("debian:12", "x", 3)
    assert line.span is not None and data[line.span.start:line.span.end] == b"debian:12"


def test_global_arg_expansion_forms() -> None:
    env = {"A": "x", "EMPTY": "", "UNSET": None}
    assert expand("${A}-${B:-d}-${EMPTY:-e}-${EMPTY-f}-${A:+p}-$A", env) == "x-d-e--p-x"
    assert expand("'$A'\"$A\"\\$A", env) == "$Ax$A"
    with pytest.raises(DockerfileError):
        expand("${A", env)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"RUN true\n", "no FROM"),
        (b"FROM\n", "FROM takes an image"),
        (b"FROM a AS b c\n", "FROM takes an image"),
        (b"FROM --pull=always debian:12\n", "does not take the flag"),
        (b"FROM debian:12 AS 1bad\n", "invalid stage name"),
        (b"FROM debian:12 AS a\nFROM debian:12 AS a\n", "duplicate stage name"),
        (b"FROM ${NOTHING}\n", "expands to nothing"),
        (b"FROM Debian:12\n", "FROM Debian:12"),
        (b"FROM debian:12\nRUN <<EOT\nnever closed\n", "never closed"),
        (b"# escape=x\nFROM debian:12\n", "invalid escape"),
    ],
)
def test_errors_are_one_line_with_the_line_number(text: bytes, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_dockerfile(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_rewrite_touches_only_the_spans() -> None:
    parsed = parse_dockerfile(DOCKERFILE)
    spans = {f.span: "X" for f in parsed.external() if f.span is not None}
    out = parsed.rewrite(spans)
    pieces, position = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        pieces.append(DOCKERFILE[position:span.start])
        position = span.end
    pieces.append(DOCKERFILE[position:])
    assert out == b"X".join(pieces)
