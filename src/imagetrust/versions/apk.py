"""Alpine version ordering, exactly as apk-tools 2.14 (``apk version -t``) orders versions.

Grammar: ``digit{.digit}...{letter{digits}...}{_suffix{number}}...{-rN}``. apk reads a version as
a chain of tokens, each kind allowed only after certain others, and compares the chains token by
token. It still orders strings that break the grammar: the first bad token ends the chain
(``1.0 < 1.0bc``). Details that matter and that a tidier grammar gets wrong:

- a letter may be followed by digits (``1.9.5p2``, ``1.0a1b2``): the digits are a new number
  token, so ``1.9.5p2-r0 < 1.9.5p2-r1`` (apk-tools v3 calls such versions invalid, and then every
  revision of them equal; Alpine's releases and its secdb were written for 2.14);
- after a dot, leading zeros count negatively (``1.001 < 1.01 < 1.1``);
- a number of 18 or more digits makes the version invalid from there on;
- suffix names are matched as prefixes (``_pre`` before ``_p``) and ``_`` alone is no suffix.

The reference is apk-tools 2.14's ``src/version.c``; ``tests/versions`` compiles it and compares
verdicts on generated pairs. One deliberate difference: apk-tools accepts the empty string as a
version; here it is refused, like a version that is invalid and does not start with a digit
(apk would order those by accident of its tokeniser, not by any rule a vendor writes down).
"""

from __future__ import annotations

from functools import lru_cache

from imagetrust.versions.base import InvalidVersion

SCHEME = "apk"

# Token kinds, numbered as apk-tools 2.14 numbers them: the order decides which version is
# greater when one chain ends before the other, so the values are part of the semantics.
INVALID, DIGIT_OR_ZERO, DIGIT, LETTER, SUFFIX, SUFFIX_NO, REVISION_NO, END = range(-1, 7)
_PRE_SUFFIXES = ("alpha", "beta", "pre", "rc")  # values -4..-1: below "no suffix"
_POST_SUFFIXES = ("cvs", "svn", "git", "hg", "p")  # values 0..4
_MAX_DIGITS = 18

Chain = tuple[tuple[int, ...], tuple[int, ...]]
"""(kinds, values): ``kinds[k]`` is the kind of token ``k``, ``values[k]`` what reading it gives;
``kinds`` has one more entry, the kind that ended the chain (END or INVALID)."""


def _digits_end(text: str, pos: int) -> int:
    while pos < len(text) and "0" <= text[pos] <= "9":
        pos += 1
    return pos


def _next_kind(kind: int, text: str, pos: int) -> tuple[int, int]:
    """The kind of the token at ``pos`` after a token of ``kind``, and where its value starts."""
    char = text[pos]
    if char == "\0":
        return END, pos
    if kind in (DIGIT, DIGIT_OR_ZERO) and "a" <= char <= "z":
        new = LETTER
    elif kind == LETTER and "0" <= char <= "9":
        new = DIGIT
    elif kind == SUFFIX and "0" <= char <= "9":
        new = SUFFIX_NO
    else:
        pos += 1
        if char == ".":
            new = DIGIT_OR_ZERO
        elif char == "_":
            new = SUFFIX
        elif char == "-" and text[pos:pos + 1] == "r":
            new, pos = REVISION_NO, pos + 1
        else:
            new = INVALID
    if new < kind and (new, kind) not in (
        (DIGIT_OR_ZERO, DIGIT), (SUFFIX, SUFFIX_NO), (DIGIT, LETTER)
    ):
        new = INVALID
    return new, pos


def _read(kind: int, text: str, pos: int) -> tuple[int, int, int]:
    """Read one token of ``kind`` at ``pos``: (value, next kind, next position)."""
    if pos >= len(text):
        return 0, END, pos
    following = INVALID
    if kind == LETTER:
        value, end = ord(text[pos]), pos + 1
    elif kind == SUFFIX:
        name = next((s for s in _PRE_SUFFIXES if text.startswith(s, pos)), None)
        if name is not None:
            value = _PRE_SUFFIXES.index(name) - len(_PRE_SUFFIXES)
        else:
            name = next((s for s in _POST_SUFFIXES if text.startswith(s, pos)), None)
            if name is None:
                return -1, INVALID, pos
            value = _POST_SUFFIXES.index(name)
        end = pos + len(name)
    elif kind == DIGIT_OR_ZERO and text[pos] == "0":
        # Extra leading zeros count against the number; the last zero is read as a digit next.
        end = pos
        while end + 1 < len(text) and text[end + 1] == "0":
            end += 1
        value, following = pos - end, DIGIT
    else:  # DIGIT, DIGIT_OR_ZERO, SUFFIX_NO, REVISION_NO
        end = _digits_end(text, pos)
        if end - pos >= _MAX_DIGITS:
            return -1, INVALID, end
        value = int(text[pos:end] or "0")
    if end >= len(text):
        return value, END, end
    if following != INVALID:
        return value, following, end
    following, end = _next_kind(kind, text, end)
    return value, following, end


def _chain(version: str) -> Chain:
    kinds, values = [DIGIT], []
    pos = 0
    while kinds[-1] not in (END, INVALID):
        value, kind, pos = _read(kinds[-1], version, pos)
        values.append(value)
        kinds.append(kind)
    return tuple(kinds), tuple(values)


@lru_cache(maxsize=65536)
def tokens(version: str) -> Chain:
    """Cached token chain; raises for the empty string and for an invalid version that does not
    start with a digit."""
    chain = _chain(version)
    if not version or (chain[0][-1] == INVALID and not "0" <= version[0] <= "9"):
        raise InvalidVersion(SCHEME, version, "an apk version starts with a digit")
    return chain


def compare(a: str, b: str, *, fuzzy: bool = False) -> int:
    """-1, 0 or 1 like ``apk version -t``; ``fuzzy`` is apk's ``~`` (equal while the shorter
    chain lasts)."""
    (kinds_a, values_a), (kinds_b, values_b) = tokens(a), tokens(b)
    k = 0
    kind_a = kind_b = DIGIT
    value_a = value_b = 0
    while kind_a == kind_b and kind_a not in (END, INVALID) and value_a == value_b:
        value_a, value_b = values_a[k], values_b[k]
        k += 1
        kind_a, kind_b = kinds_a[k], kinds_b[k]
    if value_a != value_b:
        return -1 if value_a < value_b else 1
    if kind_a == kind_b or fuzzy:
        return 0
    # Equal so far: the longer version is greater, unless what follows is a pre-release suffix.
    if kind_a == SUFFIX and values_a[k] < 0:
        return -1
    if kind_b == SUFFIX and values_b[k] < 0:
        return 1
    return -1 if kind_a > kind_b else 1


def is_valid(version: str) -> bool:
    """True when the whole string follows apk's grammar (``apk_version_validate``), except that
    the empty string is not a version here."""
    return bool(version) and _chain(version)[0][-1] == END
