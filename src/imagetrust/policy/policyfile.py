"""The effective policy: the shipped default merged with the organisation's ``imagetrust.toml``.

The default is data (``data/policy.toml``) a user can read, copy and change. A policy file is
found at ``--policy FILE``, else ``IMAGETRUST_POLICY``, else ``./imagetrust.toml``; it may set,
per rule, ``enabled``, ``level`` and the rule's own settings, and list VEX documents and an
exceptions file (paths relative to the policy file). Every value remembers where it came from
(``policy show``), and a malformed or unknown setting is one error naming file, line and key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from imagetrust.assess.model import SEVERITIES
from imagetrust.errors import UsageError
from imagetrust.policy.discovery import POLICY_ENV, POLICY_FILE, find_policy_file
from imagetrust.policy.model import Level
from imagetrust.policy.rules import ATTESTATION_STATES, KINDS

DEFAULT_ORIGIN = "default"
_DEFAULT_PATH = "data/policy.toml"
_TOP_KEYS = ("rules", "vex", "exceptions")
_MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class RuleSetting:
    """One rule as the effective policy applies it."""

    name: str
    enabled: bool
    level: Level
    params: Mapping[str, Any]
    origins: Mapping[str, str]
    """Key (``enabled``, ``level``, a setting) → where its value came from."""


@dataclass(frozen=True, slots=True)
class Policy:
    rules: tuple[RuleSetting, ...]
    source: str | None = None
    """The policy file merged over the default (None: the default alone)."""
    vex: tuple[Path, ...] = ()
    exceptions: Path | None = None

    def rule(self, name: str) -> RuleSetting:
        return next(r for r in self.rules if r.name == name)

    @property
    def enabled(self) -> tuple[RuleSetting, ...]:
        return tuple(r for r in self.rules if r.enabled)


def _lines(text: str) -> dict[tuple[str, str], int]:
    """(table, key) → line number, for error messages (tomllib keeps no positions)."""
    where: dict[tuple[str, str], int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            table = header.group(1).replace('"', "")
            where.setdefault((table, ""), number)
            continue
        key = re.match(r'^"?([A-Za-z0-9_.-]+)"?\s*=', stripped)
        if key:
            where.setdefault((table, key.group(1)), number)
    return where


class _Reader:
    """Validates one policy document, naming file, line and key in every error."""

    def __init__(self, text: str, label: str) -> None:
        self.label = label
        self.lines = _lines(text)

    def error(self, table: str, key: str, message: str, hint: str) -> UsageError:
        line = self.lines.get((table, key)) or self.lines.get((table, ""))
        at = f"{self.label}:{line}" if line else self.label
        name = f"{table}.{key}" if table and key else table or key
        return UsageError(f"{at}: {name}: {message}", hint=hint)

    def value(self, table: str, key: str, value: Any, expected: type) -> Any:
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if expected is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.error(table, key, "must be a list of strings",
                                 'write it as ["a", "b"]')
            return tuple(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise self.error(table, key, f"must be {expected.__name__}, not "
                             f"{type(value).__name__}", f"write a {expected.__name__} value")
        return value


def _parse(text: str, label: str) -> tuple[dict[str, Any], _Reader]:
    reader = _Reader(text, label)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{label}: not valid TOML ({error})",
                         hint="fix the syntax; `imagetrust policy show` checks a file") from None
    for key in data:
        if key not in _TOP_KEYS:
            raise reader.error("", key, "unknown setting",
                               f"a policy file has {', '.join(_TOP_KEYS)}")
    return data, reader


def _default_text() -> str:
    return resources.files("imagetrust").joinpath(_DEFAULT_PATH).read_text("utf-8")


def _merge(
    base: dict[str, dict[str, Any]],
    origins: dict[str, dict[str, str]],
    rules: Any,
    reader: _Reader,
    origin: str,
) -> None:
    if not isinstance(rules, dict):
        raise reader.error("rules", "", "must be tables of rules",
                           "write [rules.NAME] sections")
    for name, table in rules.items():
        kind = KINDS.get(name)
        section = f"rules.{name}"
        if kind is None:
            raise reader.error(section, "", "unknown rule",
                               f"known rules: {', '.join(sorted(KINDS))}")
        if not isinstance(table, dict):
            raise reader.error(section, "", "must be a table", f"write [{section}]")
        current = base.setdefault(name, {})
        where = origins.setdefault(name, {})
        for key, value in table.items():
            line = reader.lines.get((section, key))
            stamp = f"{reader.label}:{line}" if line and origin != DEFAULT_ORIGIN else origin
            if key == "enabled":
                current[key] = reader.value(section, key, value, bool)
            elif key == "level":
                text = reader.value(section, key, value, str)
                try:
                    current[key] = Level.parse(text)
                except UsageError as error:
                    raise reader.error(section, key, error.message,
                                       error.hint or "use a trust level") from None
            elif key in kind.params:
                current[key] = reader.value(section, key, value, kind.params[key])
                problem = _PARAM_CHECKS.get(key, _no_check)(current[key])
                if problem:
                    raise reader.error(section, key, problem, "see docs/policy.md for the values")
            else:
                allowed = ", ".join(["enabled", "level", *kind.params])
                raise reader.error(section, key, "unknown setting for this rule",
                                   f"{name} takes {allowed}")
            where[key] = stamp


def _no_check(value: Any) -> str | None:
    return None


def _within(allowed: frozenset[str], what: str) -> Callable[[Any], str | None]:
    def check(values: Any) -> str | None:
        wrong = [v for v in values if v not in allowed]
        if wrong:
            choices = ", ".join(sorted(allowed))
            return f"unknown {what} {', '.join(map(repr, wrong))} (use {choices})"
        return None if values else f"needs at least one {what}"
    return check


def _non_negative(value: Any) -> str | None:
    return "must be 0 or more" if value < 0 else None


_PARAM_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "severities": _within(frozenset(SEVERITIES), "severity"),
    "accept": _within(ATTESTATION_STATES, "attestation state"),
    "grace-days": _non_negative,
    "max-age-days": _non_negative,
    "days": _non_negative,
    "threshold": lambda v: None if 0 <= v <= 1 else "is a probability: between 0 and 1",
    "patterns": lambda v: None if v else "needs at least one pattern",
    "licenses": lambda v: None if v else "needs at least one licence",
}
"""Values a setting may take, whichever rule it belongs to: a typo must not turn a rule off."""


def load_policy(path: Path | None = None) -> Policy:
    """The default policy, with ``path`` merged over it when given."""
    rules: dict[str, dict[str, Any]] = {}
    origins: dict[str, dict[str, str]] = {}
    data, reader = _parse(_default_text(), f"imagetrust/{_DEFAULT_PATH}")
    _merge(rules, origins, data.get("rules", {}), reader, DEFAULT_ORIGIN)
    vex: tuple[Path, ...] = ()
    exceptions: Path | None = None
    if path is not None:
        try:
            if path.stat().st_size > _MAX_BYTES:
                raise UsageError(f"{path}: larger than {_MAX_BYTES} bytes",
                                 hint="a policy file is a short TOML document")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            why = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise UsageError(f"cannot read policy file {path}: {why or error}",
                             hint="check the --policy path or IMAGETRUST_POLICY") from None
        data, reader = _parse(text, str(path))
        _merge(rules, origins, data.get("rules", {}), reader, str(path))
        base = path.parent
        if "vex" in data:
            vex = tuple(base / v for v in reader.value("", "vex", data["vex"], list))
        if "exceptions" in data:
            exceptions = base / reader.value("", "exceptions", data["exceptions"], str)
    settings = []
    for name, kind in KINDS.items():
        values = rules.get(name, {})
        where = origins.get(name, {})
        level = values.get("level")
        if not isinstance(level, Level):
            raise UsageError(f"rule {name} has no level in the default policy",
                             hint="this is a packaging error: reinstall imagetrust")
        params = {k: v for k, v in values.items() if k in kind.params}
        settings.append(RuleSetting(
            name, bool(values.get("enabled", True)), level, params,
            {"enabled": where.get("enabled", DEFAULT_ORIGIN), **where},
        ))
    return Policy(tuple(settings), str(path) if path else None, vex, exceptions)


__all__ = ["POLICY_ENV", "POLICY_FILE", "Policy", "RuleSetting", "find_policy_file",
           "load_policy"]
