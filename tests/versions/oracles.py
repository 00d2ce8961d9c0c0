"""Helpers that ask the real tools on this machine how they order versions.

Every oracle batches its pairs into one process so a test costs one fork, not one per pair.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

Pair = tuple[str, str]


def require(tool: str) -> str:
    """Path of ``tool``; skip the test with the reason when it is not installed."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed, so it cannot serve as the oracle")
    return path


def dpkg_compare(pairs: list[Pair], workdir: Path) -> list[int]:
    """``dpkg --compare-versions`` verdicts (-1/0/1) for every pair, from one shell loop."""
    require("dpkg")
    listing = workdir / "dpkg-pairs.txt"
    listing.write_text("".join(f"{a} {b}\n" for a, b in pairs))
    script = (
        'while read -r a b; do '
        'if dpkg --compare-versions "$a" lt "$b"; then echo -1; '
        'elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; '
        'done < "$1"'
    )
    out = subprocess.run(["sh", "-c", script, "sh", str(listing)], capture_output=True,
                         text=True, check=True, timeout=60)
    return [int(line) for line in out.stdout.split()]


def rpm_compare(pairs: list[Pair], workdir: Path) -> list[int]:
    """rpm 4.18's ``rpm.vercmp`` (EVR comparison) for every pair, from one Lua chunk."""
    require("rpm")
    for a, b in pairs:
        assert "]==]" not in a + b and "%" not in a + b, "version unsafe for the Lua chunk"
    body = "".join(
        f"io.write(tostring(rpm.vercmp([==[{a}]==], [==[{b}]==])), '\\n')\n" for a, b in pairs
    )
    chunk = workdir / "vercmp.lua"
    chunk.write_text(body)
    out = subprocess.run(["rpm", "--eval", f'%{{lua: dofile("{chunk}")}}'],
                         capture_output=True, text=True, check=True, timeout=60)
    return [int(line) for line in out.stdout.split()]


def maven_jar() -> Path:
    """Maven's own maven-artifact jar (holds ComparableVersion with a main method)."""
    require("java")
    jars = sorted(Path("/usr/share/maven/lib").glob("maven-artifact-*.jar"))
    if not jars:
        pytest.skip("Maven's maven-artifact jar is not installed at /usr/share/maven/lib")
    return jars[0]


_MAVEN_LINE = re.compile(r"^\s+(\S+) (<|==|>) (\S+)$")


def maven_compare_chain(versions: list[str]) -> list[tuple[str, str, int]]:
    """ComparableVersion's verdicts on each consecutive pair of ``versions`` (one JVM run)."""
    out = subprocess.run(
        ["java", "-cp", str(maven_jar()),
         "org.apache.maven.artifact.versioning.ComparableVersion", *versions],
        capture_output=True, text=True, check=True, timeout=120,
    )
    verdicts = {"<": -1, "==": 0, ">": 1}
    result = []
    for line in out.stdout.splitlines():
        match = _MAVEN_LINE.match(line)
        if match:
            result.append((match.group(1), match.group(3), verdicts[match.group(2)]))
    assert len(result) == len(versions) - 1, out.stdout
    return result


def node_semver_module() -> Path:
    """node-semver as bundled with npm on this machine (no network needed)."""
    node = require("node")
    require("npm")
    root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True,
                          timeout=60).stdout.strip()
    module = Path(root) / "npm" / "node_modules" / "semver"
    if not (module / "package.json").is_file():
        pytest.skip(f"node-semver not found under {root}/npm/node_modules (node at {node})")
    return module


def npm_compare(pairs: list[Pair]) -> list[int | None]:
    """``semver.compare(a, b, true)`` per pair; None where node-semver throws (invalid)."""
    module = node_semver_module()
    script = (
        f"const semver = require({json.dumps(str(module))});"
        "const pairs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(pairs.map(([a, b]) => {"
        "  try { return semver.compare(a, b, true); } catch (e) { return null; } })));"
    )
    out = subprocess.run(["node", "-e", script], input=json.dumps(pairs), capture_output=True,
                         text=True, check=True, timeout=60)
    verdicts: list[int | None] = json.loads(out.stdout)
    return verdicts


_GO_MAIN = """package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"oracle/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Split(in.Text(), " ")
		if !semver.IsValid(f[0]) || !semver.IsValid(f[1]) {
			fmt.Println("invalid")
			continue
		}
		fmt.Println(semver.Compare(f[0], f[1]))
	}
}
"""


def go_compare(pairs: list[Pair], workdir: Path) -> list[int | None]:
    """golang.org/x/mod/semver (the copy vendored in the Go toolchain) per pair; None = invalid.

    The package is built from the toolchain's own source into a throw-away module in ``workdir``.
    """
    go = require("go")
    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True,
                            check=True, timeout=60).stdout.strip()
    source = Path(goroot) / "src/cmd/vendor/golang.org/x/mod/semver/semver.go"
    if not source.is_file():
        pytest.skip(f"x/mod/semver is not vendored in this Go toolchain ({source})")
    module = workdir / "gooracle"
    (module / "semver").mkdir(parents=True)
    shutil.copyfile(source, module / "semver" / "semver.go")
    (module / "go.mod").write_text("module oracle\n\ngo 1.19\n")
    (module / "main.go").write_text(_GO_MAIN)
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GO111MODULE": "on"}
    subprocess.run([go, "build", "-o", str(module / "oracle"), "."], cwd=module, env=env,
                   check=True, capture_output=True, timeout=300)
    lines = "".join(f"{a} {b}\n" for a, b in pairs)
    out = subprocess.run([str(module / "oracle")], input=lines, capture_output=True, text=True,
                         check=True, timeout=60)
    return [None if line == "invalid" else int(line) for line in out.stdout.split()]


# Headers standing in for apk-tools' own (apk_defines.h, apk_blob.h, apk_version.h): just the
# names version.c uses, so its file compiles unmodified and alone.
_APK_DEFINES_H = """#include <stddef.h>
#include <stdint.h>
#include <string.h>
#define FALSE 0
#define TRUE 1
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
typedef struct apk_blob { long len; char *ptr; } apk_blob_t;
#define APK_BLOB_IS_NULL(blob) ((blob).ptr == NULL)
#define APK_BLOB_STR(str) ((apk_blob_t){ (long)strlen(str), (char *)(str) })
"""
_APK_VERSION_H = """#define APK_VERSION_EQUAL 1
#define APK_VERSION_LESS 2
#define APK_VERSION_GREATER 4
#define APK_VERSION_FUZZY 8
#define APK_DEPMASK_CHECKSUM (APK_VERSION_LESS | APK_VERSION_GREATER)
int apk_version_validate(apk_blob_t ver);
int apk_version_compare_blob(apk_blob_t a, apk_blob_t b);
"""
_APK_MAIN_C = r"""#include <stdio.h>
#include "apk_defines.h"
#include "apk_version.h"
/* stdin: "a b" per line; stdout: "<verdict> <a valid> <b valid>" like `apk version -t`. */
int main(void) {
    char line[4096], a[2048], b[2048];
    while (fgets(line, sizeof line, stdin)) {
        if (sscanf(line, "%2047s %2047s", a, b) != 2) return 2;
        int r = apk_version_compare_blob(APK_BLOB_STR(a), APK_BLOB_STR(b));
        const char *op = r == APK_VERSION_LESS ? "<" : r == APK_VERSION_GREATER ? ">"
                       : r == APK_VERSION_EQUAL ? "=" : "?";
        printf("%s %d %d\n", op, apk_version_validate(APK_BLOB_STR(a)),
               apk_version_validate(APK_BLOB_STR(b)));
    }
    return 0;
}
"""

APK_SOURCE = Path(__file__).resolve().parents[1] / "data/versions/apk-tools-2.14/version.c"


def apk_compare(pairs: list[Pair], workdir: Path) -> list[tuple[int, bool, bool]]:
    """apk-tools 2.14's own verdicts: (``apk version -t`` as -1/0/1, a valid, b valid).

    Debian has no apk-tools package here, so apk-tools' ``version.c`` (stored unmodified under
    tests/data, see SOURCES.md there) is compiled with gcc into ``workdir``.
    """
    gcc = require("gcc")
    build = workdir / "apkoracle"
    build.mkdir()
    (build / "apk_defines.h").write_text(_APK_DEFINES_H)
    (build / "apk_version.h").write_text(_APK_VERSION_H)
    (build / "main.c").write_text(_APK_MAIN_C)
    subprocess.run([gcc, "-O1", "-w", "-I", str(build), "-o", str(build / "apk-version"),
                    str(APK_SOURCE), str(build / "main.c")],
                   check=True, capture_output=True, timeout=120)
    for a, b in pairs:
        assert a and b and not any(c.isspace() for c in a + b), "unsafe pair for the oracle"
    lines = "".join(f"{a} {b}\n" for a, b in pairs)
    out = subprocess.run([str(build / "apk-version")], input=lines, capture_output=True,
                         text=True, check=True, timeout=60)
    verdicts = {"<": -1, "=": 0, ">": 1}
    result = []
    for line in out.stdout.splitlines():
        op, valid_a, valid_b = line.split()
        result.append((verdicts[op], valid_a == "1", valid_b == "1"))
    return result


def dpkg_verdicts(pairs: list[Pair], workdir: Path) -> list[int | None]:
    """``dpkg --compare-versions`` per pair, None where dpkg refuses a version (exit status 2:
    bad syntax), from one shell loop."""
    require("dpkg")
    for a, b in pairs:
        assert a and b and not any(c.isspace() for c in a + b), "unsafe pair for the oracle"
    listing = workdir / "dpkg-verdicts.txt"
    listing.write_text("".join(f"{a} {b}\n" for a, b in pairs))
    script = (
        'while read -r a b; do '
        'dpkg --compare-versions "$a" lt "$b" 2>/dev/null; lt=$?; '
        'if [ $lt = 0 ]; then echo -1; continue; fi; '
        'dpkg --compare-versions "$a" eq "$b" 2>/dev/null; eq=$?; '
        'if [ $lt -gt 1 ] || [ $eq -gt 1 ]; then echo x; '
        'elif [ $eq = 0 ]; then echo 0; else echo 1; fi; '
        'done < "$1"'
    )
    out = subprocess.run(["sh", "-c", script, "sh", str(listing)], capture_output=True,
                         text=True, check=True, timeout=120)
    return [None if line == "x" else int(line) for line in out.stdout.split()]


_GEM_SCRIPT = """
STDIN.each_line do |line|
  a, b = line.chomp.split("\t", -1)
  if Gem::Version.correct?(a) && Gem::Version.correct?(b)
    puts(Gem::Version.new(a) <=> Gem::Version.new(b))
  else
    puts "invalid"
  end
end
"""


def gem_compare(pairs: list[Pair]) -> list[int | None]:
    """RubyGems' ``Gem::Version#<=>`` per pair (one Ruby process); None = not ``correct?``."""
    require("ruby")
    for a, b in pairs:
        assert "\t" not in a + b and "\n" not in a + b, "unsafe pair for the oracle"
    lines = "".join(f"{a}\t{b}\n" for a, b in pairs)
    out = subprocess.run(["ruby", "-e", _GEM_SCRIPT], input=lines, capture_output=True,
                         text=True, check=True, timeout=60)
    return [None if line == "invalid" else int(line) for line in out.stdout.split()]


def seeded_pairs(values: list[str], count: int, seed: int) -> list[Pair]:
    """``count`` reproducible random pairs, half of them between neighbours in sorted text order
    (those share prefixes, where the interesting rules apply)."""
    rng = random.Random(seed)
    ordered = sorted(set(values))
    pairs = [(rng.choice(ordered), rng.choice(ordered)) for _ in range(count // 2)]
    for _ in range(count - len(pairs)):
        i = rng.randrange(len(ordered) - 1)
        a, b = ordered[i], ordered[i + 1]
        pairs.append((a, b) if rng.random() < 0.5 else (b, a))
    return pairs
