"""The version tests shipped by dpkg, apk-tools and rpm, run against our implementation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imagetrust.versions import InvalidVersion, apk, compare, is_valid

VERDICT = {"<": -1, "=": 0, ">": 1}


def _versions_dir(test_data: Path) -> Path:
    return test_data / "versions"


# --- dpkg -------------------------------------------------------------------------------------

def test_dpkg_perl_vectors(test_data: Path) -> None:
    lines = (_versions_dir(test_data) / "dpkg-Dpkg_Version.t.DATA.txt").read_text().splitlines()
    cases = [line.split() for line in lines if line.strip()]
    assert len(cases) == 43
    for a, b, expected in cases:
        assert compare("deb", a, b) == int(expected), (a, b)
        assert compare("deb", b, a) == -int(expected), (b, a)


def _dpkg_object(epoch: str, version: str, revision: str) -> str:
    return f"{epoch}:{version}" + (f"-{revision}" if revision else "")


_OBJECT = r'DPKG_VERSION_OBJECT\((\d+), "([^"]*)", "([^"]*)"\)'
_RELATIONS = {"EQ": lambda r: r == 0, "LT": lambda r: r < 0, "LE": lambda r: r <= 0,
              "GT": lambda r: r > 0, "GE": lambda r: r >= 0}
_PARSE_OK = r'test_pass\(parseversion\(&a, "([^"]*)", (?:NULL|&err)\) == 0\);'
_PARSE_FAILS = (r'test_(?:fail\(parseversion\(&a, "([^"]*)", &err\) =='
                r'|pass\(parseversion\(&a, "([^"]*)", &err\) !=) 0\);')
_OPS = {"==": lambda r: r == 0, "<": lambda r: r < 0, ">": lambda r: r > 0}


def _run_dpkg_c_tests(source: str) -> tuple[int, int, int]:
    """Interpret the compare/relate/parse assertions of dpkg's t-version.c.

    Statements on blank versions or hand-set struct fields have no string form, so assertions
    that follow them are skipped until ``a`` and ``b`` are strings again.
    """
    env: dict[str, str | None] = {"a": None, "b": None}
    compared = hard = warned = 0
    pending_failure: str | None = None
    for raw in source.splitlines():
        line = raw.strip()
        if m := re.match(rf"a = b = {_OBJECT};", line):
            env["a"] = env["b"] = _dpkg_object(*m.groups())
        elif m := re.match(rf"([ab]) = {_OBJECT};", line):
            env[m.group(1)] = _dpkg_object(*m.groups()[1:])
        elif re.match(r"dpkg_version_blank\(&([ab])\)|[ab]\.\w+ = ", line):
            name = line.split("&")[1][0] if "blank" in line else line[0]
            env[name] = None
        elif m := re.match(_PARSE_OK, line):
            env["a"] = m.group(1)
            assert is_valid("deb", m.group(1)), m.group(1)
        elif m := re.match(_PARSE_FAILS, line):
            pending_failure = m.group(1) if m.group(1) is not None else m.group(2)
        elif line in ("test_error(err);", "test_warn(err);") and pending_failure is not None:
            assert not is_valid("deb", pending_failure), pending_failure
            if line == "test_error(err);":
                with pytest.raises(InvalidVersion):
                    compare("deb", pending_failure, "1")
                hard += 1
            else:
                assert compare("deb", pending_failure, pending_failure) == 0
                warned += 1
            pending_failure = None
        elif m := re.match(r"test_(pass|fail)\(dpkg_version_compare\(&a, &b\) (==|<|>) 0\);",
                           line):
            a, b = env["a"], env["b"]
            if a is not None and b is not None:
                holds = _OPS[m.group(2)](compare("deb", a, b))
                assert holds == (m.group(1) == "pass"), (a, m.group(2), b)
                compared += 1
        elif m := re.match(r"test_(pass|fail)\(dpkg_version_compare\(&b, &a\) (==|<|>) 0\);",
                           line):
            a, b = env["a"], env["b"]
            if a is not None and b is not None:
                holds = _OPS[m.group(2)](compare("deb", b, a))
                assert holds == (m.group(1) == "pass"), (b, m.group(2), a)
                compared += 1
        elif m := re.match(r"test_(pass|fail)\(dpkg_version_relate\(&a, DPKG_RELATION_(\w+), &b",
                           line):
            a, b = env["a"], env["b"]
            if m.group(2) != "NONE" and a is not None and b is not None:
                holds = _RELATIONS[m.group(2)](compare("deb", a, b))
                assert holds == (m.group(1) == "pass"), (a, m.group(2), b)
                compared += 1
    return compared, hard, warned


def test_dpkg_c_vectors(test_data: Path) -> None:
    source = (_versions_dir(test_data) / "dpkg-t-version.c").read_text()
    compared, hard, warned = _run_dpkg_c_tests(source)
    # Counted by hand in t-version.c: 11 compare and 15 relate assertions on versions with a
    # string form, 17 compares after a successful parse; 12 parse errors and 2 parse warnings.
    assert (compared, hard, warned) == (43, 12, 2)


def test_dpkg_c_invalid_character_loops() -> None:
    # The two loops at the end of t-version.c substitute these characters into "0:0a-0"
    # (upstream) and "0:0-0" (revision); dpkg warns, so they are invalid but still comparable.
    for char in "!#@$%&/|\\<>()[]{};,_=*^'":
        version = f"0:0{char}-0"
        assert not is_valid("deb", version), version
        assert compare("deb", version, version) == 0
    for char in "!#@$%&/|\\<>()[]{}:;,_=*^'":
        version = f"0:0-{char}"
        assert not is_valid("deb", version), version


# --- apk --------------------------------------------------------------------------------------

def _apk_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def _apk_check(line: str) -> bool:
    """One line of version.data as apk's own tests read it (``version_test.c``)."""
    parts = line.split()
    if len(parts) == 1:
        version = parts[0]
        if version.startswith("!"):
            return not apk.is_valid(version[1:])
        return apk.is_valid(version)
    a, op, b = parts
    invert = op.startswith("!")
    op = op.lstrip("!")
    fuzzy = "~" in op
    result = apk.compare(a, b, fuzzy=fuzzy)
    wanted = {VERDICT[c] for c in op if c in VERDICT}
    if fuzzy:
        wanted.add(0)  # '~' sets APK_VERSION_EQUAL in the result mask
    return (result in wanted) != invert


def test_apk_214_stable_vectors(test_data: Path) -> None:
    lines = _apk_lines(_versions_dir(test_data) / "apk-tools-2.14-stable-version.data")
    assert len(lines) > 700
    failures = [line for line in lines if not _apk_check(line)]
    assert failures == []
    # version.sh runs `apk version -t a b` and expects exactly the operator printed.
    for line in lines:
        a, op, b = line.split()
        assert compare("apk", a, b) == VERDICT[op], line


# apk-tools v3 (master) changed the grammar; we implement 2.14 (what Alpine's releases and secdb
# were written for), so these v3 lines disagree, and nothing else does. Every entry was checked
# against apk-tools 2.14's own version.c (tests/versions/oracles.py:apk_compare).
APK_V3_DIFFERENCES = {
    # v3 added "~<hex commit hash>" tokens; 2.14 stops at '~', so both sides tie.
    "1.0~1234 < 1.0~2345": "commit hash token (v3 only)",
    "1.0~1234-r1 < 1.0~2345-r0": "commit hash token (v3 only)",
    "1.0~1234-r1 > 1.0~1234-r0": "commit hash token (v3 only)",
    "0.1_pre2~1234abcd": "commit hash token (v3 only): invalid in 2.14",
    # v3 rejects an empty revision number and a second revision; 2.14 reads "-r" as -r0.
    "!0.1-r": "empty revision number valid in 2.14",
    "!0.1-r2-r3": "a second revision is valid in 2.14",
    # v3 rejects a trailing "_"; 2.14 ends the version there.
    "!0.1_": "trailing '_' valid in 2.14",
    # v3 rejects digits after a letter; 2.14 reads them as a new number (1.9.5p2).
    "!0.1a1": "letter followed by digits valid in 2.14",
    # v3 requires a leading number; 2.14 reads a missing one as 0.
    "!-r1": "no leading number valid in 2.14",
    "!.1": "no leading number valid in 2.14",
    "!a": "no leading number valid in 2.14",
    "!_pre1": "no leading number valid in 2.14",
    # v3 compares numbers with leading zeros as strings; 2.14 counts extra zeros negatively.
    "8.2.0 < 8.2.001": "leading zeros (2.14: 8.2.001 < 8.2.0)",
    "8.2.0015 < 8.2.002": "leading zeros (2.14: 8.2.002 < 8.2.0015)",
    # v3's "~" matches a prefix of the version; 2.14's is equal while either chain lasts.
    "3.8 !~ 3.8.1": "fuzzy match is symmetric in 2.14",
}


def test_apk_v3_master_vectors(test_data: Path) -> None:
    lines = _apk_lines(_versions_dir(test_data) / "apk-tools-v3-master-version.data")
    normalised = [" ".join(line.split()) for line in lines]
    assert set(APK_V3_DIFFERENCES) <= set(normalised)
    failures = {line for line in normalised if not _apk_check(line)}
    assert failures == set(APK_V3_DIFFERENCES)


# --- rpm --------------------------------------------------------------------------------------

def test_rpm_autotest_vectors(test_data: Path) -> None:
    text = (_versions_dir(test_data) / "rpm-rpmvercmp.at").read_text()
    cases = re.findall(r"^RPMVERCMP\((.*), (.*), (-?\d)\)$", text, re.M)
    assert len(cases) == 91  # grep -c "^RPMVERCMP(" rpm-rpmvercmp.at
    for a, b, expected in cases:
        assert compare("rpm", a, b) == int(expected), (a, b)
