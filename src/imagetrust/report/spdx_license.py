"""SPDX licence ids and expressions, for the SBOM writers, without loading license-expression.

license-expression builds its SPDX licensing from ScanCode's index on first use: about 0.2 s of
CPU here, a third of a whole ``imagetrust sbom`` run, to answer "is this string an SPDX id or
expression?". The ids come instead from the SPDX enum that the CycloneDX schema itself checks
``license.id`` against (shipped with cyclonedx-python-lib as a data file; importing its package
init is cheap, unlike its model), and expressions are checked by a small parser for the SPDX
grammar. It differs from license-expression on three kinds of edge case only, none of them
seen in real package data: non-SPDX aliases that license-expression also accepts ("GPL",
"GPL 2.0", "BSD-2") are not expressions here; user-defined ``LicenseRef-…`` ids, which
license-expression rejects unless ScanCode knows them, are, as the SPDX specification allows;
and ``WITH`` accepts any SPDX id after it, since the schema's enum does not mark exceptions.
"""

from __future__ import annotations

import json
import re
from functools import cache


@cache
def _spdx_ids() -> dict[str, str]:
    """Lower-cased id → id, from the SPDX enum the CycloneDX schema validates ``license.id``
    against (shipped with cyclonedx-python-lib; its package init is cheap, unlike its model)."""
    from cyclonedx.schema._res import SPDX_JSON

    with open(SPDX_JSON, encoding="utf-8") as stream:
        ids: list[str] = json.load(stream)["enum"]
    return {spdx_id.lower(): spdx_id for spdx_id in ids}


def spdx_id_of(value: str) -> str | None:
    """The SPDX id ``value`` names, in its canonical case, or None."""
    return _spdx_ids().get(value.lower())


_TOKEN = re.compile(r"\s*(?:(\()|(\))|([A-Za-z0-9.:+-]+))")
_USER_REF = re.compile(r"(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+")


def is_spdx_expression(value: str) -> bool:
    """True if ``value`` follows the SPDX license-expression grammar over known ids
    (``MIT``, ``(MIT OR Apache-2.0) AND BSD-3-Clause``, ``X WITH exception``). As in
    license-expression, operators may be in any case and ``+`` only appears in the deprecated
    ids that contain it (``GPL-2.0+``), not as an operator (``MIT+``)."""
    tokens: list[str] = []
    pos = 0
    text = value.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            return False
        tokens.append(match.group(match.lastindex or 0))
        pos = match.end()
    return bool(tokens) and _Parser(tokens).expression_is_whole()


class _Parser:
    """Recursive descent: ``or := and (OR and)*``, ``and := with (AND with)*``,
    ``with := simple [WITH id] | "(" or ")"``."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def expression_is_whole(self) -> bool:
        return self._or() and self.pos == len(self.tokens)

    def _peek_operator(self, operator: str) -> bool:
        return self.pos < len(self.tokens) and self.tokens[self.pos].upper() == operator

    def _or(self) -> bool:
        if not self._and():
            return False
        while self._peek_operator("OR"):
            self.pos += 1
            if not self._and():
                return False
        return True

    def _and(self) -> bool:
        if not self._with():
            return False
        while self._peek_operator("AND"):
            self.pos += 1
            if not self._with():
                return False
        return True

    def _with(self) -> bool:
        if self.pos >= len(self.tokens):
            return False
        token = self.tokens[self.pos]
        self.pos += 1
        if token == "(":
            if not self._or() or self.pos >= len(self.tokens) or self.tokens[self.pos] != ")":
                return False
            self.pos += 1
            return True
        if not _is_simple(token):
            return False
        if self._peek_operator("WITH"):
            self.pos += 1
            if self.pos >= len(self.tokens) or spdx_id_of(self.tokens[self.pos]) is None:
                return False
            self.pos += 1
        return True


def _is_simple(token: str) -> bool:
    if token.upper() in ("AND", "OR", "WITH") or token in ("(", ")"):
        return False
    if _USER_REF.fullmatch(token):
        return True
    return spdx_id_of(token) is not None
