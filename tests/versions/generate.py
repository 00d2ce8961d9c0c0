"""Seeded random version strings per scheme, for the differential tests against the real tools.

Each generator builds versions from the pieces its scheme treats specially (epochs, ``~``, ``^``,
apk suffixes, letters followed by digits, Maven qualifiers, semver pre-releases and build
metadata…), mostly well-formed with a share of broken ones. :func:`pairs` then pairs them so that
many pairs differ by one small edit: random pairs alone rarely reach the rules that matter.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Pair = tuple[str, str]
Generator = Callable[[random.Random], str]


def _number(rng: random.Random, *, zeros: bool = True) -> str:
    choice = rng.random()
    if zeros and choice < 0.15:
        return "0" * rng.randint(1, 3) + str(rng.randint(0, 12))
    if choice < 0.25:
        return str(rng.randint(10, 99999999))
    return str(rng.randint(0, 12))


def dpkg_version(rng: random.Random) -> str:
    """``[epoch:]upstream[-revision]`` with ``~``, ``+``, ``.``, letters and digits."""
    pieces = ["~", "+", ".", "a", "b", "z", "A", "Z", "dfsg", "git", "rc", "~rc", "+b", "~~"]

    def part(first_digit: bool) -> str:
        text = _number(rng) if first_digit else rng.choice(["", _number(rng), "a", "~"])
        for _ in range(rng.randint(0, 4)):
            text += rng.choice(pieces) if rng.random() < 0.6 else _number(rng)
        return text

    upstream = part(True)
    if rng.random() < 0.2:
        upstream += "-" + part(True)  # a hyphen inside the upstream part
    version = upstream
    if rng.random() < 0.25:
        version = f"{rng.choice(['0', '1', '2', '10', '01'])}:{version}"
    if rng.random() < 0.6 or "-" in upstream:
        revision = part(rng.random() < 0.8).lstrip("~+.") or "1"
        version += f"-{revision}"
    return version


def rpm_version(rng: random.Random) -> str:
    """``[epoch:]version[-release]`` from digits, letters, ``~``, ``^``, ``.``, ``_``, ``+``."""
    pieces = ["~", "^", ".", "_", "+", "a", "b", "rc", "git", "fc17", "el8", "p", "Z", "α"]

    def part() -> str:
        return "".join(
            rng.choice(pieces) if rng.random() < 0.5 else _number(rng)
            for _ in range(rng.randint(1, 5))
        )

    version = part()
    if rng.random() < 0.3:
        version = f"{rng.choice(['0', '1', '2', '01'])}:{version}"
    if rng.random() < 0.5:
        version += "-" + part()
    return version


_APK_SUFFIXES = ["_alpha", "_beta", "_pre", "_rc", "_p", "_cvs", "_svn", "_git", "_hg", "_",
                 "_pre_p", "_alphabet", "_x"]


def apk_version(rng: random.Random) -> str:
    """Gentoo-style apk versions: numbers, a letter (often followed by digits, as in
    ``1.9.5p2``), suffixes with numbers, ``-rN`` revisions, and some junk."""
    version = _number(rng)
    for _ in range(rng.randint(0, 3)):
        version += "." + _number(rng)
    if rng.random() < 0.3:
        version += rng.choice("abpz")
        if rng.random() < 0.6:
            version += _number(rng, zeros=False)
            if rng.random() < 0.2:
                version += rng.choice("ab") + _number(rng, zeros=False)
    for _ in range(rng.choices([0, 1, 2], [5, 4, 1])[0]):
        version += rng.choice(_APK_SUFFIXES)
        if rng.random() < 0.6:
            version += _number(rng)
    if rng.random() < 0.6:
        version += "-r" + (_number(rng, zeros=False) if rng.random() < 0.95 else "")
    if rng.random() < 0.06:
        cut = rng.randrange(len(version) + 1)
        version = version[:cut] + rng.choice(["~", "+", "A", "-", ".", "_", "-r1", "1" * 19])
        version += version[cut:]
    return version


_MAVEN_QUALIFIERS = ["alpha", "a", "beta", "b", "milestone", "m", "rc", "cr", "snapshot",
                     "SNAPSHOT", "ga", "final", "FINAL", "release", "sp", "jre", "android",
                     "foo", "Alpha", "RC", "", "x"]


def maven_version(rng: random.Random) -> str:
    """Numbers and qualifiers joined by ``.``, ``-`` or nothing (letter/digit transitions)."""
    version = _number(rng)
    for _ in range(rng.randint(0, 5)):
        separator = rng.choice([".", ".", "-", "-", ""])
        if rng.random() < 0.55:
            token = _number(rng)
            if separator == "" and version[-1].isdigit():
                separator = "."
        else:
            token = rng.choice(_MAVEN_QUALIFIERS)
            if separator == "" and not version[-1].isdigit():
                separator = "-"
        version += separator + token
    return version or "0"


def _identifier(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.35:
        return _number(rng)
    if choice < 0.8:
        return rng.choice(["alpha", "beta", "rc", "pre", "x", "Alpha", "a1", "1a", "-", "a-b"])
    return rng.choice(["0a", "00", "01", "", "ü"])


def semver_version(rng: random.Random) -> str:
    """``MAJOR.MINOR.PATCH[-pre][+build]``, sometimes with ``v``/``=``, leading zeros, or too few
    or too many parts."""
    parts = [_number(rng) if rng.random() < 0.1 else str(rng.randint(0, 12)) for _ in range(3)]
    if rng.random() < 0.05:
        parts = parts[: rng.randint(1, 2)] if rng.random() < 0.6 else [*parts, "4"]
    version = ".".join(parts)
    if rng.random() < 0.55:
        version += "-" + ".".join(_identifier(rng) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.2:
        version += "+" + ".".join(rng.choice(["build", "5", "001", "sha-abc"])
                                  for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.1:
        version = rng.choice(["v", "=", "=v", "V"]) + version
    return version


def go_version(rng: random.Random) -> str:
    """Module versions: semver with ``v``, pseudo-versions, ``+incompatible``, short forms."""
    choice = rng.random()
    if choice < 0.2:
        stamp = f"{rng.randint(2018, 2024)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        stamp += f"{rng.randint(0, 999999):06d}"
        base = rng.choice(["v0.0.0-", "v1.2.3-0.", "v1.2.4-0.", "v2.0.0-pre.0."])
        return f"{base}{stamp}-{rng.randrange(16 ** 12):012x}"
    version = "v" + semver_version(rng).lstrip("v=V")
    if rng.random() < 0.1:
        version += "+incompatible"
    if rng.random() < 0.05:
        version = version[1:]
    if rng.random() < 0.05:
        version = ".".join(version.split(".")[: rng.randint(1, 2)])
    return version


def _edit(rng: random.Random, version: str, generator: Generator) -> str:
    """A close neighbour of ``version``: one piece of another generated version spliced in."""
    other = generator(rng)
    if not version or rng.random() < 0.3:
        return other
    cut = rng.randrange(len(version) + 1)
    if rng.random() < 0.5:
        return version[:cut] + other[rng.randrange(len(other) + 1):]
    return version[:cut] + other[: rng.randint(0, 3)] + version[cut:]


def pairs(generator: Generator, count: int, seed: int,
          usable: Callable[[str], bool] = bool) -> list[Pair]:
    """``count`` seeded pairs: a third random, a third one small edit apart, a third a version
    and a prefix or extension of it. ``usable`` filters strings the oracle cannot take."""
    rng = random.Random(seed)
    out: list[Pair] = []
    while len(out) < count:
        a = generator(rng)
        kind = len(out) % 3
        if kind == 0:
            b = generator(rng)
        elif kind == 1:
            b = _edit(rng, a, generator)
        else:
            b = a[: rng.randint(1, max(1, len(a)))] if rng.random() < 0.5 else a + _edit(
                rng, "", generator)[:4]
        if rng.random() < 0.5:
            a, b = b, a
        if usable(a) and usable(b):
            out.append((a, b))
    return out


def gem_version(rng: random.Random) -> str:
    """RubyGems versions: dotted numbers and letters, ``-`` pre-releases, trailing zeros."""
    version = _number(rng)
    for _ in range(rng.randint(0, 4)):
        token = _number(rng) if rng.random() < 0.6 else rng.choice(
            ["a", "b", "pre", "rc", "beta", "alpha", "rc1", "1a", "A", "0"])
        version += "." + token
    if rng.random() < 0.15:
        version += "-" + rng.choice(["1", "pre", "rc.1", "a-b", "0", ""])
    if rng.random() < 0.05:
        version += rng.choice(["..1", "_1", "+1", " "])
    return version
