"""Parser for the official-images ``library/<name>`` files (bashbrew's RFC 2822-style format).

These files are the authority on which tags of a Docker Official Image are still supported and
which git commit each architecture's image was built from, so the provenance checks read them
directly instead of trusting labels inside the image. Semantics follow bashbrew: the first paragraph
is global and supplies defaults (including ``arch-Field`` values) for every entry, ``#`` lines are
ignored, paragraphs are separated by blank lines and indented lines continue the previous field.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from imagetrust.errors import FeedError
from imagetrust.image.model import Platform

DEFAULT_ARCHITECTURES: tuple[str, ...] = ("amd64",)
DEFAULT_GIT_FETCH = "refs/heads/master"
DEFAULT_DIRECTORY = "."
DEFAULT_FILE = "Dockerfile"

ARCH_FIELDS: tuple[str, ...] = ("GitRepo", "GitFetch", "GitCommit", "Directory", "File")
"""Fields that bashbrew lets an architecture override as ``<arch>-<Field>``."""

_LIST_FIELDS = ("Maintainers", "Tags", "SharedTags", "Architectures", "Constraints")
_SCALAR_FIELDS = ("GitRepo", "GitFetch", "GitCommit", "Directory", "File", "Builder")
_CANONICAL = {name.lower(): name for name in (*_LIST_FIELDS, *_SCALAR_FIELDS)}
_ARCH_FIELD_RE = re.compile(
    r"^(?P<arch>[a-z0-9][a-z0-9-]*)-(?P<field>" + "|".join(ARCH_FIELDS) + r")$", re.IGNORECASE
)
_FIELD_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)[ \t]*:(?P<value>.*)$")
_HINT_CORRUPT = "the official-images catalog may be corrupt; run `imagetrust catalog update`"
_COMMIT_RE = re.compile(r"^[0-9a-f]{1,64}$")
_FETCH_RE = re.compile(r"^refs/(heads|tags)/[^*?:]+$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")

# OCI platform (architecture, variant) → bashbrew architecture name, for Linux images.
_PLATFORM_ARCH: dict[tuple[str, str | None], str] = {
    ("amd64", None): "amd64",
    ("arm64", None): "arm64v8",
    ("arm64", "v8"): "arm64v8",
    ("arm", "v5"): "arm32v5",
    ("arm", "v6"): "arm32v6",
    ("arm", "v7"): "arm32v7",
    ("arm", None): "arm32v7",
    ("386", None): "i386",
    ("ppc64le", None): "ppc64le",
    ("s390x", None): "s390x",
    ("riscv64", None): "riscv64",
    ("mips64le", None): "mips64le",
}


class LibraryParseError(FeedError):
    """A ``library/`` file is malformed; the message names the file and line."""


def bashbrew_arch(platform: Platform) -> str:
    """Map an OCI platform to bashbrew's architecture name (``linux/arm64/v8`` → ``arm64v8``)."""
    key = (platform.architecture, platform.variant)
    arch = _PLATFORM_ARCH.get(key) or _PLATFORM_ARCH.get((platform.architecture, None))
    if arch is None:
        arch = platform.architecture + (platform.variant or "")
    return f"windows-{arch}" if platform.os == "windows" else arch


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """One tag group: its tags and where (repo, commit, directory) each architecture builds from."""

    tags: tuple[str, ...]
    shared_tags: tuple[str, ...]
    architectures: tuple[str, ...]
    git_repo: str
    git_fetch: str
    git_commit: str
    directory: str
    file: str
    builder: str | None = None
    constraints: tuple[str, ...] = ()
    arch_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """``{"arm64v8": {"GitCommit": "…", "Directory": "…"}}`` — inherited from the global entry."""
    line: int = 0
    """Line of the entry's first field, for messages."""

    def value_for(self, arch: str, name: str) -> str:
        """A per-architecture field (``GitCommit`` …): the override if any, else the default."""
        override = self.arch_overrides.get(arch, {}).get(name)
        if override:
            return override
        defaults = {
            "GitRepo": self.git_repo,
            "GitFetch": self.git_fetch,
            "GitCommit": self.git_commit,
            "Directory": self.directory,
            "File": self.file,
        }
        if name not in defaults:
            raise KeyError(name)
        return defaults[name]

    def git_commit_for(self, arch: str | Platform) -> str:
        return self.value_for(_arch_name(arch), "GitCommit")

    def directory_for(self, arch: str | Platform) -> str:
        return self.value_for(_arch_name(arch), "Directory")

    def has_architecture(self, arch: str | Platform) -> bool:
        return _arch_name(arch) in self.architectures


@dataclass(frozen=True, slots=True)
class LibraryFile:
    """A parsed ``library/<name>`` file: the supported tags of one Docker Official Image."""

    name: str
    maintainers: tuple[str, ...]
    git_repo: str | None
    entries: tuple[LibraryEntry, ...]

    def entries_for_tag(self, tag: str) -> tuple[LibraryEntry, ...]:
        """Entries publishing ``tag``: the one listing it in Tags, else all sharing it."""
        direct = tuple(e for e in self.entries if tag in e.tags)
        if direct:
            return direct
        return tuple(e for e in self.entries if tag in e.shared_tags)

    def entry_for_tag(self, tag: str, arch: str | Platform | None = None) -> LibraryEntry | None:
        """The entry behind ``tag`` (for a shared tag, the one that builds ``arch``)."""
        candidates = self.entries_for_tag(tag)
        if arch is not None and len(candidates) > 1:
            for entry in candidates:
                if entry.has_architecture(arch):
                    return entry
        return candidates[0] if candidates else None

    def supported_tags(self) -> tuple[str, ...]:
        """Every tag (and shared tag) the library still builds, in file order."""
        seen: dict[str, None] = {}
        for entry in self.entries:
            for tag in (*entry.tags, *entry.shared_tags):
                seen.setdefault(tag, None)
        return tuple(seen)

    def git_commit_for(self, tag: str, arch: str | Platform) -> str | None:
        """Commit ``tag`` is built from on ``arch``; None when the library does not build that."""
        entry = self.entry_for_tag(tag, arch)
        if entry is None or not entry.has_architecture(arch):
            return None
        return entry.git_commit_for(arch)


def _arch_name(arch: str | Platform) -> str:
    return bashbrew_arch(arch) if isinstance(arch, Platform) else arch


@dataclass(slots=True)
class _Paragraph:
    line: int
    fields: dict[str, tuple[str, int]] = field(default_factory=dict)
    """canonical field name → (raw value with continuations joined, line)."""


def _paragraphs(text: str, where: str) -> Iterator[_Paragraph]:
    current: _Paragraph | None = None
    last_field: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        if not stripped:
            if current is not None:
                yield current
            current, last_field = None, None
            continue
        if line[0] in " \t":
            if current is None or last_field is None:
                raise LibraryParseError(
                    f"{where} line {number}: indented continuation line without a field before it",
                    hint=_HINT_CORRUPT,
                )
            value, start = current.fields[last_field]
            current.fields[last_field] = (f"{value} {stripped}", start)
            continue
        match = _FIELD_RE.match(line)
        if match is None:
            raise LibraryParseError(
                f"{where} line {number}: expected 'Field: value', got {_clip(stripped)!r}",
                hint=_HINT_CORRUPT,
            )
        name = _canonical(match["name"])
        if current is None:
            current = _Paragraph(line=number)
        if name in current.fields:
            raise LibraryParseError(
                f"{where} line {number}: field {name!r} given twice in one entry"
            )
        current.fields[name] = (match["value"].strip(), number)
        last_field = name
    if current is not None:
        yield current


def _canonical(name: str) -> str:
    arch_match = _ARCH_FIELD_RE.match(name)
    if arch_match:
        field_name = next(f for f in ARCH_FIELDS if f.lower() == arch_match["field"].lower())
        return f"{arch_match['arch'].lower()}-{field_name}"
    return _CANONICAL.get(name.lower(), name)


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def parse_library(text: str, name: str, *, source: str | None = None) -> LibraryFile:
    """Parse one library file; ``source`` (a path) names the file in error messages."""
    where = source or f"library/{name}"
    paragraphs = iter(_paragraphs(text, where))
    glob = next(paragraphs, None)
    if glob is None:
        raise LibraryParseError(f"{where} line 1: empty library file (no global entry)")
    if "Maintainers" not in glob.fields or not _split(glob.fields["Maintainers"][0]):
        raise LibraryParseError(f"{where} line {glob.line}: global entry has no Maintainers")
    for forbidden in ("Tags", "SharedTags"):
        if forbidden in glob.fields:
            raise LibraryParseError(
                f"{where} line {glob.fields[forbidden][1]}: "
                f"{forbidden} not allowed in the global entry"
            )
    defaults = _Defaults.from_global(glob, where)

    entries: list[LibraryEntry] = []
    tag_lines: dict[str, int] = {}
    shared: dict[str, int] = {}
    for paragraph in paragraphs:
        entry = defaults.entry(paragraph, where)
        for tag in entry.tags:
            if tag in tag_lines or tag in shared:
                first = tag_lines.get(tag, shared.get(tag))
                raise LibraryParseError(
                    f"{where} line {entry.line}: tag {tag!r} already defined at line {first}"
                )
            tag_lines[tag] = entry.line
        for tag in entry.shared_tags:
            if tag in tag_lines:
                raise LibraryParseError(
                    f"{where} line {entry.line}: shared tag {tag!r} is also a plain tag "
                    f"at line {tag_lines[tag]}"
                )
            shared.setdefault(tag, entry.line)
        entries.append(entry)
    git_repo = glob.fields.get("GitRepo", ("", 0))[0] or None
    return LibraryFile(
        name=name,
        maintainers=_split(glob.fields["Maintainers"][0]),
        git_repo=git_repo,
        entries=tuple(entries),
    )


@dataclass(frozen=True, slots=True)
class _Defaults:
    """Values from the global paragraph that every entry inherits unless it overrides them."""

    scalars: Mapping[str, str]
    architectures: tuple[str, ...]
    shared_tags: tuple[str, ...]
    constraints: tuple[str, ...]
    arch_values: Mapping[str, Mapping[str, str]]

    @classmethod
    def from_global(cls, glob: _Paragraph, where: str) -> _Defaults:
        scalars = {
            "GitFetch": DEFAULT_GIT_FETCH,
            "Directory": DEFAULT_DIRECTORY,
            "File": DEFAULT_FILE,
        }
        scalars.update({k: v for k, (v, _) in glob.fields.items() if k in _SCALAR_FIELDS})
        return cls(
            scalars=scalars,
            architectures=_split(glob.fields["Architectures"][0])
            if "Architectures" in glob.fields
            else DEFAULT_ARCHITECTURES,
            shared_tags=(),
            constraints=_split(glob.fields.get("Constraints", ("", 0))[0]),
            arch_values=_arch_values(glob, {}),
        )

    def entry(self, paragraph: _Paragraph, where: str) -> LibraryEntry:
        fields = paragraph.fields
        line = paragraph.line
        tags = _split(fields.get("Tags", ("", 0))[0])
        if not tags:
            raise LibraryParseError(f"{where} line {line}: entry has no Tags")
        for tag in (*tags, *_split(fields.get("SharedTags", ("", 0))[0])):
            if not _TAG_RE.match(tag):
                raise LibraryParseError(f"{where} line {line}: invalid tag {_clip(tag)!r}")
        scalars = dict(self.scalars)
        scalars.update({k: v for k, (v, _) in fields.items() if k in _SCALAR_FIELDS})
        for required in ("GitRepo", "GitCommit"):
            if not scalars.get(required):
                raise LibraryParseError(
                    f"{where} line {line}: entry {tags[0]!r} has no {required} "
                    "(neither in the entry nor in the global entry)"
                )
        overrides = _arch_values(paragraph, self.arch_values)
        for arch, values in ((None, scalars), *overrides.items()):
            commit = values.get("GitCommit")
            if commit is not None and not _COMMIT_RE.match(commit):
                label = f"{arch}-GitCommit" if arch else "GitCommit"
                raise LibraryParseError(
                    f"{where} line {line}: entry {tags[0]!r} has invalid {label} "
                    f"{_clip(commit)!r} (must be a commit hash, not a tag or branch)"
                )
            fetch = values.get("GitFetch")
            if fetch is not None and not _FETCH_RE.match(fetch):
                label = f"{arch}-GitFetch" if arch else "GitFetch"
                raise LibraryParseError(
                    f"{where} line {line}: entry {tags[0]!r} has invalid {label} {_clip(fetch)!r} "
                    "(must be refs/heads/… or refs/tags/…)"
                )
        architectures = (
            _split(fields["Architectures"][0]) if "Architectures" in fields else self.architectures
        )
        shared = _split(fields["SharedTags"][0]) if "SharedTags" in fields else self.shared_tags
        constraints = (
            _split(fields["Constraints"][0]) if "Constraints" in fields else self.constraints
        )
        return LibraryEntry(
            tags=tags,
            shared_tags=tuple(dict.fromkeys(shared)),
            architectures=tuple(dict.fromkeys(architectures)),
            git_repo=scalars["GitRepo"],
            git_fetch=scalars["GitFetch"],
            git_commit=scalars["GitCommit"],
            directory=_clean_dir(scalars["Directory"]),
            file=scalars["File"],
            builder=scalars.get("Builder") or None,
            constraints=constraints,
            arch_overrides=MappingProxyType(
                {
                    arch: MappingProxyType(
                        {k: _clean_dir(v) if k == "Directory" else v for k, v in values.items()}
                    )
                    for arch, values in overrides.items()
                }
            ),
            line=line,
        )


def _arch_values(
    paragraph: _Paragraph, inherited: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]]:
    merged = {arch: dict(values) for arch, values in inherited.items()}
    for key, (value, _) in paragraph.fields.items():
        arch, sep, name = key.rpartition("-")
        if sep and name in ARCH_FIELDS and arch:
            merged.setdefault(arch, {})[name] = value
    return merged


def _clean_dir(value: str) -> str:
    return posixpath.normpath(value) if value else DEFAULT_DIRECTORY
