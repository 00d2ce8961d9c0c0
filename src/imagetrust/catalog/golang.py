"""Go modules compiled into binaries, from the build info the Go linker embeds.

Go programs in images usually arrive as single static binaries with no manifest on disk, so
the binary itself is the evidence. Like Trivy we report the main module, every dependency
(the ``=>`` replacement when one applies, since that is the code that was compiled) and the
toolchain as ``stdlib``, whose version carries the standard library's vulnerabilities.
Versions keep Go's ``v`` prefix so that every golang version is a Go semver string.

A main module built from a checkout is recorded as ``(devel)``; release builds then usually stamp
their version into a variable with ``-ldflags "-X main.version=1.2.3"``, which Go 1.18+ keeps in
the build settings, so that version is used when it looks like one (the variable's name says
``version`` and its value is semver). Go code also ships as shared objects (``-buildmode=
c-shared`` plugins and libraries), which need not be executable: ``*.so`` files are read too.
"""

from __future__ import annotations

import re
import shlex
import stat
from collections.abc import Sequence

from packageurl import PackageURL

from imagetrust.catalog.gobuildinfo import (
    BuildInfo,
    BuildInfoError,
    Module,
    extract_build_info,
    read_build_info,
    read_build_info_excerpt,
)
from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.image.files import FileEntry, FileRequest, FileTree

MIN_BINARY_SIZE = 64 * 1024
"""The smallest Go binary (hello world, stripped) is over 1 MB; this only excludes scripts."""
MAX_BINARY_SIZE = 256 * 1024 * 1024
DEVEL = "(devel)"
_GO_RELEASE = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?")
_SHARED_OBJECT = re.compile(r"[^/]*\.so(?:\.[0-9.]+)?")
_VERSION_VARIABLE = re.compile(r"(?i)(?:[a-z]*[_-]?)?ver(?:sion)?")
_SEMVER = re.compile(r"v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?")


def wants_executable(path: str, size: int, mode: int) -> bool:
    """Regular executables and shared objects large enough to be Go binaries."""
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG) or size < MIN_BINARY_SIZE:
        return False
    return bool(mode & 0o111) or _SHARED_OBJECT.fullmatch(path.rsplit("/", 1)[-1]) is not None


def ldflags_version(settings: tuple[tuple[str, str], ...], main_path: str) -> str | None:
    """The main module's version stamped with ``-ldflags -X``, ``v``-prefixed; None if none.

    Only ``-X pkg.var=value`` pairs whose variable is named like a version and whose value is
    semver count. A variable in package ``main`` or inside the main module wins over one in a
    dependency (whose version it may be instead).
    """
    flags = next((value for key, value in settings if key == "-ldflags"), None)
    if not flags:
        return None
    try:
        words = shlex.split(flags)
        if len(words) == 1 and " " in words[0]:  # go quotes the whole value when it has spaces
            words = shlex.split(words[0])
    except ValueError:
        return None
    pairs: list[str] = []
    for i, word in enumerate(words):
        if word in ("-X", "--X") and i + 1 < len(words):
            pairs.append(words[i + 1])
        elif word.startswith(("-X=", "--X=")):
            pairs.append(word.split("=", 1)[1])
    ranked: list[tuple[int, str]] = []
    for pair in pairs:
        name, _, value = pair.partition("=")
        package, _, variable = name.rpartition(".")
        value = value.strip("'\"")
        if not _VERSION_VARIABLE.fullmatch(variable) or not _SEMVER.fullmatch(value):
            continue
        own = package == "main" or package == main_path or package.startswith(main_path + "/")
        ranked.append((0 if own else 1, value if value.startswith("v") else f"v{value}"))
    return min(ranked)[1] if ranked else None


class GoCataloger:
    """Finds Go modules and toolchains in executables (``pkg:golang``)."""

    name = "go"

    def request(self) -> FileRequest:
        # Only the build info is kept (extract), so memory does not grow with the binaries.
        return FileRequest(patterns=(), max_size=MAX_BINARY_SIZE, want=wants_executable,
                           extract=extract_build_info)

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        packages: list[Package] = []
        skips: list[CatalogSkip] = []
        for path in sorted(files.files):
            entry = files.files[path]
            if entry.kind not in ("file", "hardlink") or not wants_executable(
                path, max(entry.size, MIN_BINARY_SIZE), entry.mode
            ):
                continue
            if entry.truncated:
                skips.append(CatalogSkip(
                    self.name, path, f"executable larger than {MAX_BINARY_SIZE} bytes not read"
                ))
                continue
            data = files.read(path)
            if data is None:
                continue
            try:
                # The excerpt the reader kept, or whole content (another request wanted it).
                if _extracted(files, entry):
                    info: BuildInfo | None = read_build_info_excerpt(data)
                else:
                    info = read_build_info(data)
            except BuildInfoError as exc:
                skips.append(CatalogSkip(self.name, path, f"Go build info unreadable: {exc}"))
                continue
            if info is not None:
                found, skip = self._packages(entry, info)
                packages.extend(found)
                if skip is not None:
                    skips.append(skip)
        return packages, skips

    def _packages(
        self, entry: FileEntry, info: BuildInfo
    ) -> tuple[list[Package], CatalogSkip | None]:
        location = Location(entry.path, entry.layer_index, entry.diff_id)
        base_meta = {"go.toolchain": info.go_version}
        if info.path:
            base_meta["go.path"] = info.path
        out: list[Package] = []
        if info.main is not None:
            main, meta = info.main, {**base_meta, "go.main": "true"}
            stamped = ldflags_version(info.settings, main.path)
            if main.version == DEVEL and main.replace is None and stamped is not None:
                main = Module(main.path, stamped, main.sum)
                meta["go.version_source"] = "ldflags"
            out.append(_module_package(main, location, meta))
        out.extend(_module_package(dep, location, base_meta) for dep in info.deps)
        stdlib_version = toolchain_version(info.go_version)
        if stdlib_version is None:
            skip = CatalogSkip(
                self.name, entry.path,
                f"Go toolchain {info.go_version!r} is not a release; stdlib not reported",
            )
            return out, skip
        out.append(Package(
            name="stdlib",
            version=stdlib_version,
            type="golang",
            purl=PackageURL(type="golang", name="stdlib", version=stdlib_version).to_string(),
            cataloger="go",
            locations=(location,),
            licenses=("BSD-3-Clause",),
            metadata=base_meta,
        ))
        return out, None


def _extracted(files: FileTree, entry: FileEntry) -> bool:
    """Whether the content :meth:`FileTree.read` returns for ``entry`` is an extract."""
    if entry.data is not None or entry.kind != "hardlink" or not entry.link_target:
        return entry.extracted
    target = files.get(entry.link_target)
    return target is not None and target.extracted


def toolchain_version(go_version: str) -> str | None:
    """``go1.21.3`` → ``v1.21.3``, ``go1.20`` → ``v1.20.0``, ``go1.21rc2`` → ``v1.21.0-rc.2``.

    Experiment suffixes (``go1.22.0 X:boringcrypto``) are dropped; ``devel …`` gives None.
    """
    match = _GO_RELEASE.fullmatch(go_version.split(" ", 1)[0].split("-X:", 1)[0])
    if match is None:
        return None
    major, minor, patch, pre, pre_n = match.groups()
    version = f"v{major}.{minor}.{patch or 0}"
    return f"{version}-{pre}.{pre_n}" if pre else version


def _module_package(module: Module, location: Location, meta: dict[str, str]) -> Package:
    """The compiled module: a module replacement wins; a local directory one is ``(devel)``."""
    path, version, checksum = module.path, module.version or DEVEL, module.sum
    metadata = dict(meta)
    if module.replace is not None:
        repl = module.replace
        original = f"{module.path}@{module.version}" if module.version else module.path
        metadata["go.replaced"] = original
        if repl.path.startswith((".", "/")):
            version, checksum = DEVEL, None
            metadata["go.replace_dir"] = repl.path
        else:
            path, version, checksum = repl.path, repl.version or DEVEL, repl.sum
    if checksum:
        metadata["go.sum"] = checksum
    namespace, _, name = path.rpartition("/")
    purl = PackageURL(
        type="golang", namespace=namespace or None, name=name, version=version
    ).to_string()
    return Package(
        name=path,
        version=version,
        type="golang",
        purl=purl,
        cataloger="go",
        locations=(location,),
        namespace=namespace or None,
        metadata=metadata,
    )
