"""``imagetrust recommend --candidates 8`` against one cold ``imagetrust cves`` of the same image.

An official-style repository ``library/debian`` in a real loopback registry (``docker-registry``):
``12`` is the suite's Debian base fixture (one 51 MB gzip layer), and each candidate tag the
recommender picks from the real official-images library (imported from the shared test data) is
that base plus one small layer relabelling its os-release to the tag's Debian release (the way
official tags of one repository share their base layers). The database is built from the shared
test data as ``bench_cves`` builds it. Debian's default family has only four other supported
tags, so ``--any-variant`` lets the recommender pick eight (slim variants among them).

Both commands run with an empty image cache each time (a fresh ``IMAGETRUST_CACHE_DIR`` holding
only the imported library), offline for feeds, pulling ``debian:12`` through a registry mirror:
``cves`` downloads, verifies and catalogues the image once; ``recommend`` does the same for the
image and for every candidate, so the ratio says what the shared layers and the per-digest
scans save. Medians of ``--runs`` alternating runs (bench/harness.py).

    .venv/bin/python bench/bench_recommend.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cves import build_db  # noqa: E402
from bench.harness import compare, table  # noqa: E402
from bench.make_tracker import DATA  # noqa: E402

REPO = "library/debian"
SUBJECT = "12"
CANDIDATES = 8
_CODENAMES = {11: "bullseye", 12: "bookworm", 13: "trixie", 14: "forky"}
_ALIASES = {"bullseye": 11, "oldoldstable": 11, "bookworm": 12, "oldstable": 12, "trixie": 13,
            "stable": 13, "forky": 14, "testing": 14}


def release_of(tag: str) -> int:
    """The Debian major release a tag of the official repository names (14 for sid & co)."""
    head = tag.split("-", 1)[0]
    if head.split(".", 1)[0].isdigit():
        return int(head.split(".", 1)[0])
    return _ALIASES.get(head, 14)


def relabel_layer(os_release: str, version: int) -> dict[str, bytes]:
    """The files of a layer that makes the base say Debian ``version``."""
    codename = _CODENAMES[version]
    lines = []
    for line in os_release.splitlines():
        if line.startswith("VERSION_ID="):
            line = f'VERSION_ID="{version}"'
        elif line.startswith("VERSION_CODENAME="):
            line = f"VERSION_CODENAME={codename}"
        elif line.startswith("VERSION="):
            line = f'VERSION="{version} ({codename})"'
        elif line.startswith("PRETTY_NAME="):
            line = f'PRETTY_NAME="Debian GNU/Linux {version} ({codename})"'
        lines.append(line)
    return {"usr/lib/os-release": ("\n".join(lines) + "\n").encode(),
            "etc/debian_version": f"{version}.0\n".encode()}


def push_candidate(registry: object, base_manifest: dict[str, object],
                   base_config: dict[str, object], os_release: str, tag: str) -> None:
    """Push ``REPO:tag`` = the base's layers plus one relabelling layer (the base's layers are
    already in the repository, so only the new layer, config and manifest are uploaded)."""
    from tests.support.registry import (
        OCI_CONFIG,
        OCI_LAYER_GZIP,
        OCI_MANIFEST,
        RegistryServer,
        make_layer,
        sha256,
    )

    assert isinstance(registry, RegistryServer)
    layer, diff_id = make_layer(relabel_layer(os_release, release_of(tag)))
    config = json.loads(json.dumps(base_config))
    config["rootfs"]["diff_ids"].append(diff_id)
    config.setdefault("history", []).append(
        {"created": config.get("created"), "created_by": f"relabel as {tag}"})
    config_data = json.dumps(config, sort_keys=True).encode()
    registry.push_blob(REPO, layer)
    registry.push_blob(REPO, config_data)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config_data),
                   "size": len(config_data)},
        "layers": [*base_manifest["layers"],  # type: ignore[misc]
                   {"mediaType": OCI_LAYER_GZIP, "digest": sha256(layer), "size": len(layer)}],
    }
    registry.push_manifest(REPO, tag, json.dumps(manifest).encode(), OCI_MANIFEST)


def run_json(argv: list[str], env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[3]} failed: {done.stderr[-800:]}")
    data: dict[str, object] = json.loads(done.stdout)
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import os

    from tests.support.images import fixture_images
    from tests.support.registry import start_registry

    images = fixture_images()
    os_release = (images.app_rootfs / "usr/lib/os-release").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = build_db(work)
        registry = start_registry(work / "registry")
        try:
            subprocess.run(
                ["skopeo", "--insecure-policy", "copy", "-q", "--preserve-digests",
                 "--dest-tls-verify=false", f"oci:{images.layout}:base",
                 f"docker://{registry.host}/{REPO}:{SUBJECT}"], check=True)
            template = work / "cache-template"
            env = {**os.environ, "IMAGETRUST_DB": str(db), "IMAGETRUST_CACHE_DIR": str(template)}
            imagetrust = [sys.executable, "-m", "imagetrust"]
            subprocess.run([*imagetrust, "catalog", "import",
                            str(DATA / "official-images")],
                           check=True, env=env, capture_output=True)
            registry_flags = ["--registry-mirror", f"docker.io=http://{registry.host}",
                              "--source", "registry", "--offline"]
            recommend = [*imagetrust, "recommend", f"debian:{SUBJECT}", *registry_flags,
                         "--candidates", str(CANDIDATES), "--any-variant", "--format", "json"]
            # which tags the recommender picks: pushed afterwards, so that every pick is scanned
            env["IMAGETRUST_CACHE_DIR"] = str(work / "probe")
            subprocess.run(["cp", "-a", str(template), str(work / "probe")], check=True)
            probe = run_json([*recommend, "--only-update"], env)
            notes = [str(n) for n in probe["notes"]]  # type: ignore[attr-defined]
            picked = [n.split(":", 1)[1].split(" ", 1)[0] for n in notes
                      if n.startswith(f"{REPO}:") and "could not be scanned" in n]
            assert len(picked) == CANDIDATES, notes
            base_manifest = images.manifest("base")
            base_config = images.config("base")
            for tag in picked:
                push_candidate(registry, base_manifest, base_config, os_release, tag)
            env["IMAGETRUST_CACHE_DIR"] = str(work / "check")
            subprocess.run(["cp", "-a", str(template), str(work / "check")], check=True)
            checked = run_json(recommend, env)
            scanned = [c["tag"] for c in checked["candidates"]]  # type: ignore[attr-defined]
            assert sorted(scanned) == sorted(picked), (scanned, checked["notes"])
            print(f"candidates: {', '.join(picked)}")

            # a fresh cache per run holding only the imported library: no blob or layer is warm
            cold = ["sh", "-c", 'd="$(mktemp -d)"; cp -a "$0/." "$d/"; '
                    'export IMAGETRUST_CACHE_DIR="$d"; "$@"; s=$?; rm -rf "$d"; exit $s',
                    str(template)]
            commands = {
                "cves (cold)": [*cold, *imagetrust, "cves", f"debian:{SUBJECT}",
                                *registry_flags, "-q", "--format", "json"],
                f"recommend --candidates {CANDIDATES} (cold)": [*cold, *recommend],
            }
            results = compare(commands, runs=args.runs, warmup=0,
                              env={"IMAGETRUST_DB": str(db)})
            print(table(results, "cves (cold)"))
        finally:
            registry.stop()


if __name__ == "__main__":
    main()
