"""Content for the ``polyglot`` image: real packages of several ecosystems, installed by real tools.

Versions are pinned (several have published advisories, which the matchers need); nothing is
fetched except from PyPI, npm and the Debian mirror. Go uses only the Debian toolchain and a local
module (no module proxy), which also exercises ``=>`` replacements in Go build info.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.support.build.rootfs import apt_install
from tests.support.build.run import run

SITE_PACKAGES = "usr/local/lib/python3.11/site-packages"
PYPI_PINS = ("requests==2.31.0", "urllib3==1.26.18", "idna==3.4", "six==1.16.0")
NPM_DIR = "app"
NPM_PINS = ("lodash@4.17.20", "minimist@1.2.5")
GO_BINARY = "usr/local/bin/hello-go"
GO_MODULE = "example.com/imagetrust/hello"
GO_DEP = "example.com/imagetrust/greet"
GO_DEP_VERSION = "v1.2.3"
DEBIAN_PACKAGES = ("libcommons-lang3-java", "python3-six")
JAR = "usr/share/java/commons-lang3.jar"

_MAIN_GO = f"""package main

import (
\t"fmt"

\t"{GO_DEP}"
)

func main() {{ fmt.Println(greet.Hello()) }}
"""
_GREET_GO = 'package greet\n\nfunc Hello() string { return "hello from go" }\n'


def add_polyglot_content(rootfs: Path, workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile",
         "--only-binary=:all:", "--disable-pip-version-check",
         "--target", rootfs / SITE_PACKAGES, *PYPI_PINS])
    app = rootfs / NPM_DIR
    app.mkdir(parents=True, exist_ok=True)
    (app / "package.json").write_text(
        json.dumps({"name": "polyglot-app", "version": "1.0.0", "private": True}), encoding="utf-8")
    run(["npm", "install", "--prefix", app, "--no-audit", "--no-fund", "--no-package-lock",
         "--save-exact", "--cache", workdir / "npm-cache", *NPM_PINS])
    _build_go(rootfs / GO_BINARY, workdir / "go")
    apt_install(rootfs, DEBIAN_PACKAGES)


def _build_go(output: Path, src: Path) -> None:
    (src / "greet").mkdir(parents=True, exist_ok=True)
    (src / "greet" / "go.mod").write_text(f"module {GO_DEP}\n\ngo 1.19\n", encoding="utf-8")
    (src / "greet" / "greet.go").write_text(_GREET_GO, encoding="utf-8")
    (src / "go.mod").write_text(
        f"module {GO_MODULE}\n\ngo 1.19\n\nrequire {GO_DEP} {GO_DEP_VERSION}\n\n"
        f"replace {GO_DEP} => ./greet\n",
        encoding="utf-8",
    )
    (src / "main.go").write_text(_MAIN_GO, encoding="utf-8")
    output.parent.mkdir(parents=True, exist_ok=True)
    env = {"GOFLAGS": "-mod=mod", "GOPROXY": "off", "CGO_ENABLED": "0",
           "GOCACHE": str(src / "cache"), "GOPATH": str(src / "gopath")}
    run(["go", "build", "-buildvcs=false", "-trimpath", "-o", output, "."], cwd=src, env=env)
