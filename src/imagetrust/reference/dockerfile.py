"""Dockerfile ``FROM`` lines as BuildKit reads them, each reference with its byte span.

``dockerfile check`` needs the external base images a build pulls; ``dockerfile pin`` must
rewrite exactly those references and no other byte. So the file is read as BuildKit's
parser does — parser directives (``# escape=``), line continuations, comment lines inside a
continuation, heredocs, global ``ARG`` defaults before the first ``FROM``, ``--platform``,
``AS`` names, ``scratch`` and references to earlier stages — while every character keeps its
offset in the file. The text is decoded as Latin-1 so character offsets *are* byte offsets.
A reference written as a lone ``${ARG}`` is located at that ARG's default value, which is
where a pin belongs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from imagetrust.errors import ImagetrustError, UsageError
from imagetrust.oci.content import Platform
from imagetrust.reference.parse import ImageReference, parse_reference

Kind = Literal["external", "scratch", "stage"]

_DIRECTIVE = re.compile(r"^#[ \t]*([A-Za-z][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*?)[ \t]*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")
_ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VAR_ONLY = re.compile(r"^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$")
_BOM = "\xef\xbb\xbf"


class DockerfileError(UsageError):
    """A Dockerfile BuildKit would refuse (or that this parser cannot read faithfully)."""


@dataclass(frozen=True, slots=True)
class Span:
    """Bytes ``[start, end)`` of the file."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class FromLine:
    """One ``FROM`` instruction: the stage it starts and what it builds on."""

    line: int
    """1-based line of the ``FROM`` keyword."""
    stage: int
    """0-based index of the stage this ``FROM`` starts."""
    name: str | None
    """The stage's ``AS`` name, lower-cased as BuildKit matches it."""
    written: str
    """The base as written (``postgres:${PG}``)."""
    image: str
    """The base after ``ARG`` expansion (``postgres:16``)."""
    kind: Kind
    platform: str | None = None
    """``--platform`` after expansion (None when absent)."""
    reference: ImageReference | None = None
    """The parsed external reference (None for ``scratch`` and stages)."""
    stage_ref: int | None = None
    """The earlier stage a ``FROM <stage>`` builds on."""
    span: Span | None = None
    """Where a pin is written: the reference text in ``FROM``, or the default of the ``ARG``
    a lone ``${ARG}`` names (None when the text is split over a line continuation)."""
    via_arg: str | None = None
    """The global ``ARG`` whose default ``span`` points at."""
    templated: bool = False
    """The written reference uses variables (a pin is appended after them)."""

    @property
    def platform_value(self) -> Platform | None:
        """``--platform`` as a platform, when it is a literal ``os/arch[/variant]``."""
        if not self.platform or "$" in self.platform:
            return None
        try:
            return Platform.parse(self.platform)
        except (ValueError, ImagetrustError):
            return None


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its bytes and every ``FROM``."""

    data: bytes
    froms: tuple[FromLine, ...]
    args: Mapping[str, str | None] = field(default_factory=dict)
    """Global ``ARG`` defaults (before the first ``FROM``), after expansion."""

    def external(self) -> tuple[FromLine, ...]:
        return tuple(f for f in self.froms if f.kind == "external")

    def text_at(self, span: Span) -> str:
        return self.data[span.start : span.end].decode("latin-1")

    def rewrite(self, replacements: Mapping[Span, str]) -> bytes:
        """The file with each span replaced; every other byte is kept as it was."""
        out: list[bytes] = []
        position = 0
        for span in sorted(replacements, key=lambda s: s.start):
            if span.start < position:
                raise DockerfileError("overlapping rewrites in one Dockerfile")
            out.append(self.data[position : span.start])
            out.append(replacements[span].encode("latin-1"))
            position = span.end
        out.append(self.data[position:])
        return b"".join(out)


# -- physical and logical lines -----------------------------------------------------------------

Chars = list[tuple[str, int]]
"""Characters of a logical line with their byte offsets in the file."""


@dataclass(frozen=True, slots=True)
class _Instruction:
    line: int
    keyword: str
    rest: Chars
    """The characters after the keyword (leading whitespace dropped)."""


def _physical_lines(text: str, start: int) -> list[tuple[int, str]]:
    """(offset, content without the line ending) for each line from ``start``."""
    lines: list[tuple[int, str]] = []
    position = start
    while position < len(text):
        end = text.find("\n", position)
        stop = len(text) if end < 0 else end
        content = text[position:stop]
        lines.append((position, content.removesuffix("\r")))
        position = stop + 1
    return lines


def _directives(lines: list[tuple[int, str]]) -> tuple[str, int]:
    """The escape character and how many leading lines are parser directives."""
    escape = "\\"
    seen: set[str] = set()
    count = 0
    for _, content in lines:
        match = _DIRECTIVE.match(content)
        if match is None:
            break
        name, value = match[1].lower(), match[2]
        if name in seen:
            break
        seen.add(name)
        if name == "escape":
            if value not in ("\\", "`"):
                raise DockerfileError(f"invalid escape directive {value!r}: use \\ or `")
            escape = value
        count += 1
    return escape, count


def _instructions(text: str) -> tuple[list[_Instruction], str]:
    start = len(_BOM) if text.startswith(_BOM) else 0
    lines = _physical_lines(text, start)
    escape, skip = _directives(lines)
    found: list[_Instruction] = []
    index = skip
    while index < len(lines):
        offset, content = lines[index]
        stripped = content.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        first_line = index + 1
        chars: Chars = []
        while True:
            body, continued = _continuation(content, escape)
            chars.extend((ch, offset + i) for i, ch in enumerate(body))
            index += 1
            if not continued:
                break
            # inside a continuation, comment lines and empty lines are dropped
            while index < len(lines) and (
                not lines[index][1].strip() or lines[index][1].lstrip().startswith("#")
            ):
                index += 1
            if index >= len(lines):
                break
            offset, content = lines[index]
        keyword, rest = _split_keyword(chars)
        found.append(_Instruction(first_line, keyword.upper(), rest))
        if keyword.upper() in ("RUN", "COPY", "ADD"):
            index = _skip_heredocs(lines, index, "".join(c for c, _ in rest))
    return found, escape


def _continuation(content: str, escape: str) -> tuple[str, bool]:
    trimmed = content.rstrip(" \t")
    if trimmed.endswith(escape):
        return trimmed[: -len(escape)], True
    return content, False


def _split_keyword(chars: Chars) -> tuple[str, Chars]:
    position = 0
    while position < len(chars) and chars[position][0] in " \t":
        position += 1
    start = position
    while position < len(chars) and chars[position][0] not in " \t":
        position += 1
    keyword = "".join(c for c, _ in chars[start:position])
    while position < len(chars) and chars[position][0] in " \t":
        position += 1
    return keyword, chars[position:]


def _skip_heredocs(lines: list[tuple[int, str]], index: int, rest: str) -> int:
    """Skip the bodies of ``<<WORD`` heredocs: their lines are data, not instructions."""
    for match in _HEREDOC.finditer(rest):
        strip_tabs, word = match[1] == "-", match[3]
        while index < len(lines):
            content = lines[index][1]
            index += 1
            if (content.lstrip("\t") if strip_tabs else content) == word:
                break
        else:
            raise DockerfileError(f"heredoc <<{word} is never closed")
    return index


# -- words and expansion ------------------------------------------------------------------------


def _words(chars: Chars) -> list[Chars]:
    """Whitespace-separated words, quotes kept (they are removed by expansion)."""
    words: list[Chars] = []
    current: Chars = []
    quote: str | None = None
    for ch, offset in chars:
        if quote is None and ch in " \t":
            if current:
                words.append(current)
                current = []
            continue
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
        current.append((ch, offset))
    if current:
        words.append(current)
    return words


def _text(chars: Chars) -> str:
    return "".join(c for c, _ in chars)


def _contiguous(chars: Chars) -> Span | None:
    if not chars:
        return None
    first = chars[0][1]
    if any(offset != first + i for i, (_, offset) in enumerate(chars)):
        return None
    return Span(first, first + len(chars))


def expand(word: str, env: Mapping[str, str | None], escape: str = "\\") -> str:
    """Quote removal and ``$VAR``/``${VAR}``/``${VAR:-d}``/``${VAR:+a}`` expansion, as
    BuildKit's shell lexer does for ``FROM`` and ``ARG`` (an unset variable is empty)."""
    out: list[str] = []
    position = 0
    quote: str | None = None
    while position < len(word):
        ch = word[position]
        if ch == escape and quote != "'" and position + 1 < len(word):
            out.append(word[position + 1])
            position += 2
            continue
        if ch in "'\"" and quote is None:
            quote = ch
            position += 1
            continue
        if ch == quote:
            quote = None
            position += 1
            continue
        if ch == "$" and quote != "'":
            value, position = _variable(word, position, env, escape)
            out.append(value)
            continue
        out.append(ch)
        position += 1
    if quote is not None:
        raise DockerfileError(f"unterminated {quote} quote in {word!r}")
    return "".join(out)


def _variable(
    word: str, position: int, env: Mapping[str, str | None], escape: str
) -> tuple[str, int]:
    """Expand the variable at ``word[position] == '$'``; returns (value, next position)."""
    rest = word[position + 1 :]
    plain = re.match(r"[A-Za-z_][A-Za-z0-9_]*", rest)
    if plain:
        return env.get(plain[0]) or "", position + 1 + plain.end()
    if not rest.startswith("{"):
        return "$", position + 1
    depth, end = 0, None
    for i, ch in enumerate(rest):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            end = i
            break
    if end is None:
        raise DockerfileError(f"unterminated ${{ in {word!r}")
    inner = rest[1:end]
    after = position + 1 + end + 1
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])(.*))?", inner, flags=re.S)
    if match is None:
        raise DockerfileError(f"unsupported variable expression ${{{inner}}} in {word!r}")
    name, operator, operand = match[1], match[2], match[3] or ""
    value = env.get(name)
    is_set = name in env and value is not None
    has_value = bool(value)
    if operator is None:
        return value or "", after
    present = has_value if operator.startswith(":") else is_set
    kind = operator[-1]
    if kind == "-":
        return (value or "") if present else expand(operand, env, escape), after
    if kind == "+":
        return expand(operand, env, escape) if present else "", after
    if not present:
        raise DockerfileError(f"{name}: {operand or 'parameter not set'}")
    return value or "", after


# -- the parser ---------------------------------------------------------------------------------


def automatic_args(platform: Platform) -> dict[str, str | None]:
    """BuildKit's automatic platform ARGs, for a build on and for ``platform``."""
    text = str(platform)
    values = {
        "OS": platform.os,
        "ARCH": platform.architecture,
        "VARIANT": platform.variant or "",
        "PLATFORM": text,
    }
    args: dict[str, str | None] = {}
    for prefix in ("BUILD", "TARGET"):
        for key, value in values.items():
            args[f"{prefix}{key}"] = value
    return args


def parse_dockerfile(data: bytes, *, platform: Platform | None = None) -> Dockerfile:
    """Every ``FROM`` of a Dockerfile, or one :class:`DockerfileError` naming the line."""
    text = data.decode("latin-1")
    instructions, escape = _instructions(text)
    automatic = automatic_args(platform or Platform("linux", "amd64"))
    env: dict[str, str | None] = {}
    arg_spans: dict[str, Span | None] = {}
    stages: dict[str, int] = {}
    froms: list[FromLine] = []
    for instruction in instructions:
        try:
            if instruction.keyword == "ARG" and not froms:
                _global_args(instruction.rest, env, arg_spans, automatic, escape)
            elif instruction.keyword == "FROM":
                scope = {**automatic, **env}
                found = _from(instruction, len(froms), scope, arg_spans, stages, escape)
                froms.append(found)
                if found.name is not None:
                    stages[found.name] = found.stage
        except DockerfileError as error:
            raise DockerfileError(
                f"line {instruction.line}: {error.message}", hint=error.hint
            ) from None
    if not froms:
        raise DockerfileError("no FROM instruction: this is not a Dockerfile BuildKit can build")
    return Dockerfile(data, tuple(froms), dict(env))


def _global_args(
    rest: Chars,
    env: dict[str, str | None],
    spans: dict[str, Span | None],
    automatic: Mapping[str, str | None],
    escape: str,
) -> None:
    words = _words(rest)
    if not words:
        raise DockerfileError("ARG requires at least one argument")
    for word in words:
        raw = _text(word)
        name, sep, _ = raw.partition("=")
        if not _ARG_NAME.match(name):
            raise DockerfileError(f"invalid ARG name {name!r}")
        if not sep:
            env[name] = automatic.get(name)
            spans[name] = None
            continue
        value_chars = word[len(name) + 1 :]
        value_text = _text(value_chars)
        env[name] = expand(value_text, {**automatic, **env}, escape)
        spans[name] = _value_span(value_chars)


def _value_span(chars: Chars) -> Span | None:
    """The span of a literal ARG value (inside its quotes, if the whole value is quoted)."""
    text = _text(chars)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        chars = chars[1:-1]
        text = text[1:-1]
    if not text or any(c in text for c in "$'\"\\`"):
        return None
    return _contiguous(chars)


def _from(
    instruction: _Instruction,
    stage: int,
    scope: Mapping[str, str | None],
    arg_spans: Mapping[str, Span | None],
    stages: Mapping[str, int],
    escape: str,
) -> FromLine:
    words = _words(instruction.rest)
    platform: str | None = None
    while words and _text(words[0]).startswith("--"):
        flag = _text(words.pop(0))
        flag_name, sep, value = flag[2:].partition("=")
        if flag_name.lower() != "platform" or not sep:
            raise DockerfileError(f"FROM does not take the flag {flag!r}")
        platform = expand(value, scope, escape)
    if len(words) not in (1, 3):
        raise DockerfileError("FROM takes an image and an optional `AS name`")
    name: str | None = None
    if len(words) == 3:
        if _text(words[1]).lower() != "as":
            raise DockerfileError(f"expected `AS name` after the image, got {_text(words[1])!r}")
        name = _text(words[2]).lower()
        if not _STAGE_NAME.match(name):
            raise DockerfileError(f"invalid stage name {_text(words[2])!r}")
        if name in stages:
            raise DockerfileError(f"duplicate stage name {name!r}")
    token = words[0]
    written = _text(token)
    image = expand(written, scope, escape)
    if not image:
        raise DockerfileError(f"the base {written!r} expands to nothing")
    earlier = stages.get(image.lower())
    if earlier is not None:
        return FromLine(
            instruction.line, stage, name, written, image, "stage", platform, stage_ref=earlier
        )
    if image == "scratch":
        return FromLine(instruction.line, stage, name, written, image, "scratch", platform)
    try:
        reference = parse_reference(image)
    except ImagetrustError as error:
        raise DockerfileError(f"FROM {written}: {error.message}") from None
    templated = "$" in written
    span, via_arg = _contiguous(token), None
    lone = _VAR_ONLY.match(written)
    if lone is not None:
        arg_span = arg_spans.get(lone[1] or lone[2])
        if arg_span is not None:
            span, via_arg, templated = arg_span, lone[1] or lone[2], False
    return FromLine(
        instruction.line, stage, name, written, image, "external", platform,
        reference=reference, span=span, via_arg=via_arg, templated=templated,
    )


__all__ = [
    "Dockerfile",
    "DockerfileError",
    "FromLine",
    "Span",
    "automatic_args",
    "expand",
    "parse_dockerfile",
]
