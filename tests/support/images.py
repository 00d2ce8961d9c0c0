"""Real container images for the test suite, built without a Docker daemon and cached between runs.

``fixture_images()`` builds (once, under a lock) a Debian bookworm base from debootstrap, an app
image on top of it, a multi-arch index, a rebuilt base, and a polyglot image with Python, npm,
Go and Java content, then writes every on-disk form the scanner reads: OCI layout, classic and
Docker-25 docker-save tarballs, oci-archive, a Docker schema 2 ``dir:`` copy and a root filesystem.
The build directory name hashes this code, the helper modules and tool versions, so editing the
recipe rebuilds. Digests change on every build: read them, never hard-code them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.build import layout as oci
from tests.support.build.archives import merge_docker_archives, write_docker25_save
from tests.support.build.cache import build_once, mark_in_use, prune_builds
from tests.support.build.polyglot import add_polyglot_content
from tests.support.build.rootfs import (
    APT_ENV,
    apt_install,
    bookworm_mirror,
    debootstrap_rootfs,
    dpkg_installed_count,
)
from tests.support.build.run import require_build_tools, run, tool_versions

DEFAULT_CACHE = Path("/var/tmp/imagetrust-fixtures")
BASE_TAG = "debian:12"
APP_TAG = "myapp:1.0"
BASE_NAME = "docker.io/library/debian:12"
REBUILD_FILE = "etc/imagetrust-rebuild"
APP_FILE = "app/hello.txt"
APP_FILE_TEXT = "hello from the imagetrust fixture app\n"
DELETED_FILE = "etc/issue.net"  # in the base, removed by the app: a whiteout in layer 2
APP_PACKAGES = ("jq",)
APP_USER = "1000:1000"
TITLE_LABEL = "org.opencontainers.image.title"


@dataclass(frozen=True)
class FixtureImages:
    """Where each built form lives (absolute paths inside one cached build)."""

    root: Path
    layout: Path  # OCI layout with refs: base, base-rebuild, app, multiarch, polyglot
    base_archive: Path  # classic docker-archive, tag debian:12
    app_archive: Path  # classic docker-archive, tag myapp:1.0
    app_archive_oci: Path  # Docker >= 25 docker-save (OCI layout inside) of myapp:1.0
    multi_archive: Path  # classic docker-archive holding debian:12 and myapp:1.0
    app_oci_archive: Path  # oci-archive of app, ref name app
    app_v2s2_layout: Path  # Docker schema 2 copy of app, skopeo `dir:` transport directory
    app_rootfs: Path  # root filesystem directory of app
    debootstrap_packages: int  # dpkg packages installed in base (from var/lib/dpkg/status)

    def manifest_digest(self, ref: str) -> str:
        """Digest of the manifest (or index, for multiarch) that layout ref ``ref`` points at."""
        digest: str = oci.ref_descriptor(self.layout, ref)["digest"]
        return digest

    def manifest(self, ref: str) -> dict[str, object]:
        return oci.manifest_json(self.layout, ref)

    def config(self, ref: str) -> dict[str, object]:
        """Image config of a single-platform layout ref."""
        digest = oci.manifest_json(self.layout, ref)["config"]["digest"]
        config: dict[str, object] = json.loads(oci.read_blob(self.layout, digest))
        return config


def cache_root() -> Path:
    return Path(os.environ.get("IMAGETRUST_FIXTURE_CACHE") or DEFAULT_CACHE)


def _build_key() -> str:
    """Short hash of the recipe: this file, the build helpers, tool versions and the mirror."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for source in [Path(__file__).resolve(), *sorted((here / "build").glob("*.py"))]:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    digest.update(tool_versions().encode() + bookworm_mirror().encode())
    return digest.hexdigest()[:12]


def _paths(root: Path, packages: int) -> FixtureImages:
    return FixtureImages(
        root=root,
        layout=root / "layout",
        base_archive=root / "base-docker-archive.tar",
        app_archive=root / "app-docker-archive.tar",
        app_archive_oci=root / "app-docker25-save.tar",
        multi_archive=root / "multi-docker-archive.tar",
        app_oci_archive=root / "app-oci-archive.tar",
        app_v2s2_layout=root / "app-v2s2-dir",
        app_rootfs=root / "app-bundle" / "rootfs",
        debootstrap_packages=packages,
    )


@functools.cache
def fixture_images() -> FixtureImages:
    """Build (or reuse) the fixture images; raises RuntimeError naming what is missing."""
    require_build_tools()
    cache = cache_root()
    final = cache / f"build-{_build_key()}"
    build_once(final, lambda work: _build(cache, work))
    mark_in_use(final)
    prune_builds(final)
    packages = json.loads((final / "build-info.json").read_text(encoding="utf-8"))["packages"]
    return _paths(final, packages)


def _umoci_config(image: str, *extra: str) -> None:
    run(["umoci", "config", "--image", image, *extra])


def _replace_rootfs(bundle: Path, source: Path) -> None:
    shutil.rmtree(bundle / "rootfs")
    run(["cp", "-a", source, bundle / "rootfs"])


def _build(cache: Path, work: Path) -> None:
    base_rootfs = debootstrap_rootfs(cache)
    layout = work / "layout"
    bundles = work / "bundles"
    bundles.mkdir()
    run(["umoci", "init", "--layout", layout])
    _build_base(layout, bundles, base_rootfs)
    _build_app(layout, bundles)
    _build_multiarch(layout)
    _build_polyglot(layout, bundles)
    run(["umoci", "gc", "--layout", layout])
    shutil.rmtree(bundles)
    _write_forms(layout, work)
    info = {"packages": dpkg_installed_count(base_rootfs)}
    (work / "build-info.json").write_text(json.dumps(info), encoding="utf-8")


def _debian_image(layout: Path, bundles: Path, ref: str, rootfs: Path, title: str) -> None:
    """A single-layer Debian image from ``rootfs`` configured like debian:12."""
    run(["umoci", "new", "--image", f"{layout}:{ref}"])
    bundle = bundles / ref
    run(["umoci", "unpack", "--image", f"{layout}:{ref}", bundle])
    _replace_rootfs(bundle, rootfs)
    run(["umoci", "repack", "--image", f"{layout}:{ref}", bundle,
         "--history.created_by", "debootstrap --variant=minbase bookworm /"])
    _umoci_config(f"{layout}:{ref}", "--os", "linux", "--architecture", "amd64",
                  "--config.label", f"{TITLE_LABEL}={title}",
                  "--config.env", f"PATH={APT_ENV['PATH']}",
                  "--config.cmd", "bash",
                  "--history.created_by", '/bin/sh -c #(nop)  CMD ["bash"]')
    shutil.rmtree(bundle)


def _build_base(layout: Path, bundles: Path, base_rootfs: Path) -> None:
    _debian_image(layout, bundles, "base", base_rootfs, "debian")
    # The rebuild: same tree plus one file, built separately so no layer is shared with base.
    with tempfile.TemporaryDirectory(dir=bundles) as tmp:
        rebuilt = Path(tmp) / "rootfs"
        run(["cp", "-a", base_rootfs, rebuilt])
        (rebuilt / REBUILD_FILE).write_text("rebuilt\n", encoding="utf-8")
        _debian_image(layout, bundles, "base-rebuild", rebuilt, "debian")


def _build_app(layout: Path, bundles: Path) -> None:
    bundle = bundles / "app"
    run(["umoci", "unpack", "--image", f"{layout}:base", bundle])
    rootfs = bundle / "rootfs"
    apt_install(rootfs, APP_PACKAGES)
    (rootfs / APP_FILE).parent.mkdir(parents=True, exist_ok=True)
    (rootfs / APP_FILE).write_text(APP_FILE_TEXT, encoding="utf-8")
    (rootfs / DELETED_FILE).unlink()
    run(["umoci", "repack", "--image", f"{layout}:app", bundle, "--history.created_by",
         f"/bin/sh -c apt-get install -y {' '.join(APP_PACKAGES)} && rm /{DELETED_FILE}"])
    base_digest = oci.ref_descriptor(layout, "base")["digest"]
    _umoci_config(f"{layout}:app", "--config.label", f"{TITLE_LABEL}=myapp",
                  "--config.user", APP_USER, "--config.workingdir", "/app",
                  "--config.cmd", "jq",
                  "--manifest.annotation", f"org.opencontainers.image.base.name={BASE_NAME}",
                  "--manifest.annotation", f"org.opencontainers.image.base.digest={base_digest}",
                  "--history.created_by", '/bin/sh -c #(nop)  USER 1000:1000')
    shutil.rmtree(bundle)


def _build_multiarch(layout: Path) -> None:
    """An index over base (amd64) and an arm64 twin that differs only in its config."""
    _umoci_config(f"{layout}:base", "--architecture", "arm64", "--tag", "multiarch-arm64",
                  "--no-history")
    oci.write_index(layout, "multiarch", [
        ("base", {"architecture": "amd64", "os": "linux"}),
        ("multiarch-arm64", {"architecture": "arm64", "os": "linux", "variant": "v8"}),
    ])
    oci.remove_ref(layout, "multiarch-arm64")


def _build_polyglot(layout: Path, bundles: Path) -> None:
    bundle = bundles / "polyglot"
    run(["umoci", "unpack", "--image", f"{layout}:base", bundle])
    add_polyglot_content(bundle / "rootfs", bundles / "polyglot-work")
    run(["umoci", "repack", "--image", f"{layout}:polyglot", bundle, "--history.created_by",
         "/bin/sh -c pip install ... && npm install ... && go build ... && apt-get install ..."])
    _umoci_config(f"{layout}:polyglot", "--config.label", f"{TITLE_LABEL}=polyglot",
                  "--no-history")
    shutil.rmtree(bundle)


def _write_forms(layout: Path, work: Path) -> None:
    fx = _paths(work, 0)
    skopeo = ["skopeo", "--insecure-policy", "copy", "-q"]
    run([*skopeo, f"oci:{layout}:base", f"docker-archive:{fx.base_archive}:{BASE_TAG}"])
    run([*skopeo, f"oci:{layout}:app", f"docker-archive:{fx.app_archive}:{APP_TAG}"])
    merge_docker_archives([fx.base_archive, fx.app_archive], fx.multi_archive)
    write_docker25_save(layout, "app", APP_TAG, fx.app_archive_oci, work / "docker25-tmp")
    shutil.rmtree(work / "docker25-tmp", ignore_errors=True)
    run([*skopeo, f"oci:{layout}:app", f"oci-archive:{fx.app_oci_archive}:app"])
    run([*skopeo, "--format", "v2s2", f"oci:{layout}:app", f"dir:{fx.app_v2s2_layout}"])
    run(["umoci", "unpack", "--image", f"{layout}:app", fx.app_rootfs.parent])


def push_fixtures(fx: FixtureImages, registry: str, *, creds: str | None = None) -> dict[str, str]:
    """Push the fixtures to ``registry`` (host:port, plain HTTP); return name -> reference pushed.

    Pushed, in this order (digests preserved unless converted):
      base           REG/library/debian:12-base      the original base
      debian         REG/library/debian:12           base first, then base-rebuild over it, so a
                                                     scan of ``base`` is stale against this tag
      base-rebuild   REG/library/debian:12           (same tag as ``debian``)
      app            REG/myapp:1.0                   OCI manifest with base.* annotations
      multiarch      REG/multiarch:1.0               OCI index, amd64 + arm64
      polyglot       REG/polyglot:1.0
      app-v2s2       REG/myapp:1.0-v2s2              Docker schema 2 (new digest)
      multiarch-v2s2 REG/multiarch:1.0-v2s2          Docker manifest list (new digests)
    ``creds`` is ``user:password`` and never appears in errors.
    """
    auth = ["--dest-creds", creds] if creds else []
    secrets = [creds] if creds else []
    base = ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", *auth]
    layout = fx.layout
    plan = [
        ("base", "base", "library/debian:12-base", []),
        ("debian-orig", "base", "library/debian:12", []),
        ("base-rebuild", "base-rebuild", "library/debian:12", []),
        ("app", "app", "myapp:1.0", []),
        ("multiarch", "multiarch", "multiarch:1.0", ["--all"]),
        ("polyglot", "polyglot", "polyglot:1.0", []),
        ("app-v2s2", "app", "myapp:1.0-v2s2", ["--format", "v2s2"]),
        ("multiarch-v2s2", "multiarch", "multiarch:1.0-v2s2", ["--all", "--format", "v2s2"]),
    ]
    pushed: dict[str, str] = {}
    for name, ref, target, extra in plan:
        preserve = [] if "--format" in extra else ["--preserve-digests"]
        run([*base, *preserve, *extra, f"oci:{layout}:{ref}", f"docker://{registry}/{target}"],
            secrets=secrets)
        pushed[name] = f"{registry}/{target}"
    pushed["debian"] = pushed.pop("debian-orig")
    return pushed
