"""Typed reading of untrusted VEX JSON: every wrong shape is one :class:`PolicyError` naming the
file and where in it, never a ``KeyError`` or ``TypeError`` traceback."""

from __future__ import annotations

from typing import Any

from imagetrust.errors import PolicyError

MAX_STATEMENTS = 200_000
"""More statements than any real document holds: a bound on hostile input."""


class Reader:
    """Field access on one document, with errors that say which file and which field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> PolicyError:
        return PolicyError(
            f"VEX file {self.source}: {where}: {problem}",
            hint="fix or remove the document (OpenVEX 0.2, CSAF 2.0 VEX or CycloneDX VEX JSON)",
        )

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, found {_kind(value)}")
        return value

    def array(self, value: Any, where: str, *, optional: bool = True) -> list[Any]:
        if value is None and optional:
            return []
        if not isinstance(value, list):
            raise self.fail(where, f"expected an array, found {_kind(value)}")
        return value

    def text(self, value: Any, where: str, *, optional: bool = True) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or (not optional and not value.strip()):
            raise self.fail(where, f"expected a non-empty string, found {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


__all__ = ["MAX_STATEMENTS", "Reader"]
