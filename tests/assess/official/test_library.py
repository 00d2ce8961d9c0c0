"""The library/ parser against the real official-images files and the format's own README example.

Expected values are derived independently: a deliberately naive line-based reading of the same files
(paragraphs split on blank lines, ``Field: value`` per line) rather than the parser under test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imagetrust.assess.official.library import (
    LibraryParseError,
    bashbrew_arch,
    parse_library,
)
from imagetrust.image.model import Platform


def _library_dir(test_data: Path) -> Path:
    return test_data / "official-images" / "library"


def _naive_paragraphs(text: str) -> list[dict[str, str]]:
    """Blank-line separated paragraphs of ``Field: value``; indented lines continue a field."""
    paragraphs: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if not line.strip():
            if current:
                paragraphs.append(current)
            current = {}
            continue
        if line[0] in " \t":
            current[last] += " " + line.strip()
            continue
        key, _, value = line.partition(":")
        current[key] = value.strip()
        last = key
    if current:
        paragraphs.append(current)
    return paragraphs


def _items(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def test_every_real_library_file_parses_with_the_right_entry_and_tag_counts(
    test_data: Path,
) -> None:
    files = sorted(_library_dir(test_data).iterdir())
    assert len(files) > 100
    for path in files:
        text = path.read_text(encoding="utf-8")
        tag_lines = [line for line in text.splitlines() if line.startswith("Tags:")]
        expected_tags = [t for line in tag_lines for t in _items(line.partition(":")[2])]
        parsed = parse_library(text, path.name, source=str(path))
        assert parsed.name == path.name
        assert len(parsed.entries) == len(tag_lines), path.name
        assert [t for e in parsed.entries for t in e.tags] == expected_tags, path.name
        assert parsed.maintainers, path.name


def test_per_arch_git_commit_matches_a_naive_reading_for_every_tag_and_arch(
    test_data: Path,
) -> None:
    checked_overrides = 0
    for path in sorted(_library_dir(test_data).iterdir()):
        text = path.read_text(encoding="utf-8")
        glob, *entries = _naive_paragraphs(text)
        parsed = parse_library(text, path.name)
        for raw in entries:
            arches = _items(raw.get("Architectures", glob.get("Architectures", "amd64")))
            for tag in _items(raw["Tags"]):
                for arch in arches:
                    key = f"{arch}-GitCommit"
                    expected = (
                        raw.get(key)
                        or glob.get(key)
                        or raw.get("GitCommit")
                        or glob.get("GitCommit")
                    )
                    if key in raw or key in glob:
                        checked_overrides += 1
                    assert parsed.git_commit_for(tag, arch) == expected, (path.name, tag, arch)
    assert checked_overrides > 50  # debian, ubuntu, photon … really exercise the overrides


def test_postgres_supported_and_absent_tags_from_the_file(test_data: Path) -> None:
    text = (_library_dir(test_data) / "postgres").read_text(encoding="utf-8")
    _, first, *_ = _naive_paragraphs(text)
    present = _items(first["Tags"])[0]
    all_tags = {t for p in _naive_paragraphs(text)[1:] for k in ("Tags", "SharedTags")
                for t in _items(p.get(k, ""))}
    absent = next(c for c in ("9.6", "9.6-alpine", "8.4", "13-stretch") if c not in all_tags)

    library = parse_library(text, "postgres")
    entry = library.entry_for_tag(present)
    assert entry is not None
    assert entry.git_commit == first["GitCommit"]
    assert entry.directory == first["Directory"]
    assert present in library.supported_tags()
    assert library.entry_for_tag(absent) is None
    assert absent not in library.supported_tags()
    assert set(library.supported_tags()) == all_tags


def test_debian_global_arch_commits_apply_to_entries(test_data: Path) -> None:
    text = (_library_dir(test_data) / "debian").read_text(encoding="utf-8")
    glob_lines = text.split("\n\n# ")[0]  # the global paragraph precedes the first commented entry
    arm64 = re.search(r"^arm64v8-GitCommit: ([0-9a-f]{40})$", glob_lines, re.M)
    default = re.search(r"^GitCommit: ([0-9a-f]{40})$", glob_lines, re.M)
    assert arm64 is not None and default is not None
    library = parse_library(text, "debian")
    tag = library.entries[0].tags[0]
    assert library.git_commit_for(tag, "arm64v8") == arm64[1]
    assert library.git_commit_for(tag, Platform.parse("linux/arm64/v8")) == arm64[1]
    assert library.entries[0].git_commit == default[1]
    assert library.git_commit_for(tag, "mips64le") is None  # not an architecture of that tag


def test_readme_hello_world_example(test_data: Path) -> None:
    """The example in the format's own README: per-arch Directory and a windows-only entry."""
    readme = (test_data / "official-images" / "README-manifest-format.md").read_text()
    block = readme.split("```\n", 2)[1]
    assert block.startswith("Maintainers:")
    library = parse_library(block, "hello-world")
    latest, nano = library.entries
    assert latest.directory_for("arm32v7") == "arm32v7/hello-world"
    assert latest.git_commit_for("s390x") == "7d0ee592e4ed60e2da9d59331e16ecdcadc1ed87"
    assert nano.architectures == ("windows-amd64",)
    assert nano.constraints == ("nanoserver",)
    assert nano.directory == "amd64/hello-world/nanoserver"
    assert library.git_commit_for("nanoserver", Platform("windows", "amd64")) == (
        "7d0ee592e4ed60e2da9d59331e16ecdcadc1ed87"
    )
    assert library.maintainers == (
        "Tianon Gravi <admwiggin@gmail.com> (@tianon)",
        "Joseph Ferguson <yosifkit@gmail.com> (@yosifkit)",
    )


def test_shared_tag_picks_the_entry_for_the_platform(test_data: Path) -> None:
    text = (_library_dir(test_data) / "hello-world").read_text(encoding="utf-8")
    library = parse_library(text, "hello-world")
    linux = library.entry_for_tag("latest", Platform("linux", "amd64"))
    windows = library.entry_for_tag("latest", Platform("windows", "amd64"))
    assert linux is not None and "linux" in linux.tags
    assert windows is not None and windows.architectures == ("windows-amd64",)
    assert len(library.entries_for_tag("latest")) == 3


def test_defaults_comments_and_crlf() -> None:
    text = (
        "# header\r\nMaintainers: A <a@example.org> (@a)\r\nGitRepo: https://example.org/r.git\r\n"
        "\r\nTags: 1, latest\r\n# a comment inside an entry does not split it\r\n"
        "GitCommit: abc123\r\n"
    )
    library = parse_library(text, "x")
    (entry,) = library.entries
    assert entry.tags == ("1", "latest")
    assert entry.git_commit == "abc123"
    assert entry.architectures == ("amd64",)
    assert (entry.git_fetch, entry.directory, entry.file) == (
        "refs/heads/master", ".", "Dockerfile"
    )


GLOBAL = "Maintainers: A <a@example.org> (@a)\nGitRepo: https://example.org/r.git\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GLOBAL + "\nTags: 1\nGitCommit abc\n", 5, "expected 'Field: value'"),
        ("  continuation\n" + GLOBAL, 1, "continuation"),
        (GLOBAL + "\nTags: 1\nDirectory: x\n", 4, "no GitCommit"),
        (GLOBAL + "\nTags: 1\nGitCommit: v1.0\n", 4, "invalid GitCommit"),
        (GLOBAL + "\nTags: 1\nGitCommit: abc\narm64v8-GitCommit: main\n", 4,
         "invalid arm64v8-GitCommit"),
        (GLOBAL + "\nTags: 1\nGitCommit: abc\n\nTags: 2, 1\nGitCommit: abd\n", 7,
         "already defined at line 4"),
        (GLOBAL + "Tags: 1\n", 3, "not allowed in the global entry"),
        ("GitRepo: https://example.org/r.git\n\nTags: 1\nGitCommit: abc\n", 1, "no Maintainers"),
        (GLOBAL + "\nTags: 1\nGitCommit: abc\nGitCommit: abd\n", 6, "given twice"),
        (GLOBAL + "\nGitCommit: abc\n", 4, "no Tags"),
        ("# only a comment\n\n", 1, "empty library file"),
    ],
)
def test_malformed_files_name_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(LibraryParseError) as caught:
        parse_library(text, "broken", source="/cache/library/broken")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"/cache/library/broken line {line}:"), message
    assert words in message


def test_bashbrew_arch_names() -> None:
    cases = {
        "linux/amd64": "amd64",
        "linux/arm64/v8": "arm64v8",
        "linux/arm64": "arm64v8",
        "linux/arm/v7": "arm32v7",
        "linux/arm/v6": "arm32v6",
        "linux/arm/v5": "arm32v5",
        "linux/386": "i386",
        "linux/ppc64le": "ppc64le",
        "linux/s390x": "s390x",
        "linux/riscv64": "riscv64",
        "windows/amd64": "windows-amd64",
    }
    for platform, arch in cases.items():
        assert bashbrew_arch(Platform.parse(platform)) == arch, platform
