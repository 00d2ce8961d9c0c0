"""The exceptions file: accepted vulnerabilities, each with a reason, an author, a scope and an
end — a date, or a distribution status that lasts only until the distribution ships a fix.

Format (TOML, one ``[[exception]]`` table per exception)::

    [[exception]]
    id = "CVE-2023-4039"                 # or any alias (GHSA-…)
    reason = "only reachable on arm64"
    author = "alice@example.com"
    expires = 2027-01-31                 # a TOML date; the exception holds through that day
    scope = { image = "docker.io/library/postgres:*", package = "libc6",
              purl = "pkg:deb/debian/libc6" }          # every key optional
    while-distro-status = ["no-dsa", "minor", "postponed"]   # optional

``expires`` is required unless ``while-distro-status`` is given (then it is optional). Errors
name the file, the line of the ``[[exception]]`` and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from imagetrust.errors import PolicyError

DISTRO_WORDS: dict[str, str] = {
    "no-dsa": "Debian: no security advisory planned (fixed, if ever, in a point release)",
    "minor": "Debian: no-dsa with the reason 'Minor issue'",
    "postponed": "Debian: no-dsa, postponed to a later update",
    "ignored": "Debian: no-dsa, the security team will not fix it",
    "unimportant": "Debian: urgency unimportant",
    "open": "Debian: open (affected, no fixed version)",
    "not-fixed": "any distribution: affected, no fix published (Alpine/Ubuntu too)",
    "deferred": "any distribution: fix deferred (Debian postponed, Ubuntu deferred)",
    "wont-fix": "any distribution: the distribution will not fix it",
    "end-of-life": "any distribution: the release gets no more security support",
}
"""The words ``while-distro-status`` accepts, and what each means."""

_KEYS = frozenset({"id", "reason", "author", "expires", "scope", "while-distro-status"})
_SCOPE_KEYS = frozenset({"image", "package", "purl"})
_HEADER = re.compile(r"^\s*\[\[\s*exception\s*\]\]")
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Exception_:  # noqa: N801 - "Exception" would shadow the builtin
    """One accepted vulnerability, within its scope, until it expires or the distro fixes it."""

    id: str
    reason: str
    author: str
    expires: date | None
    image: str | None
    """An image reference pattern (``fnmatch``: ``*``, ``?``), None: every image."""
    package: str | None
    """A package name (also matched against the source package), None: every package."""
    purl: str | None
    """A package URL the package must match (qualifiers only when given)."""
    while_distro_status: tuple[str, ...]
    """Words from :data:`DISTRO_WORDS`: holds only while the finding's status is one of them."""
    source: str
    line: int

    @property
    def label(self) -> str:
        """``FILE:LINE (ID)``: where the exception is written."""
        return f"{self.source}:{self.line} ({self.id})"

    def expired(self, now: datetime) -> bool:
        """Past its ``expires`` day (the day itself still counts)."""
        return self.expires is not None and now.date() > self.expires


def _fail(source: str, line: int | None, key: str | None, problem: str) -> PolicyError:
    where = f"{source}:{line}" if line else source
    return PolicyError(
        f"exceptions file {where}: {f'{key}: ' if key else ''}{problem}",
        hint="see docs/exceptions-and-vex.md for the format",
    )


def _text(entry: dict[str, Any], key: str, source: str, line: int, *,
          required: bool) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, line, key, "must be a non-empty string")
    return value.strip()


def _exception(entry: Any, source: str, line: int) -> Exception_:
    if not isinstance(entry, dict):
        raise _fail(source, line, None, "each [[exception]] must be a table")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise _fail(source, line, unknown[0], f"unknown key; use {', '.join(sorted(_KEYS))}")
    ident = _text(entry, "id", source, line, required=True)
    reason = _text(entry, "reason", source, line, required=True)
    author = _text(entry, "author", source, line, required=True)
    words_raw = entry.get("while-distro-status", [])
    if not isinstance(words_raw, list) or not all(isinstance(w, str) for w in words_raw):
        raise _fail(source, line, "while-distro-status", "must be a list of strings")
    words = tuple(w.strip().lower() for w in words_raw)
    bad = [w for w in words if w not in DISTRO_WORDS]
    if bad:
        raise _fail(source, line, "while-distro-status", f"unknown word {bad[0]!r}; use "
                    f"{', '.join(DISTRO_WORDS)}")
    expires = entry.get("expires")
    if isinstance(expires, datetime):
        expires = expires.date()
    if expires is None and not words:
        raise _fail(source, line, "expires", "required (a date such as 2027-01-31) unless "
                    "while-distro-status is given")
    if expires is not None and not isinstance(expires, date):
        raise _fail(source, line, "expires", "must be a TOML date such as 2027-01-31 (unquoted)")
    scope = entry.get("scope", {})
    if not isinstance(scope, dict):
        raise _fail(source, line, "scope", "must be a table (scope = { image = \"…\" })")
    unknown = sorted(set(scope) - _SCOPE_KEYS)
    if unknown:
        raise _fail(source, line, f"scope.{unknown[0]}",
                    f"unknown key; use {', '.join(sorted(_SCOPE_KEYS))}")
    values = {k: _text(scope, k, source, line, required=False) for k in _SCOPE_KEYS}
    if values["purl"] is not None and not values["purl"].startswith("pkg:"):
        raise _fail(source, line, "scope.purl", "must be a package URL (pkg:type/…)")
    assert ident is not None and reason is not None and author is not None
    return Exception_(
        id=ident.upper() if ident.lower().startswith(("cve-", "ghsa-")) else ident,
        reason=reason, author=author, expires=expires,
        image=values["image"], package=values["package"], purl=values["purl"],
        while_distro_status=words, source=source, line=line,
    )


def parse_exceptions(text: str, source: str) -> tuple[Exception_, ...]:
    """The exceptions in ``text`` (the content of ``source``), in file order."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _fail(source, None, None, f"not valid TOML: {error}") from None
    unknown = sorted(set(doc) - {"exception"})
    if unknown:
        raise _fail(source, None, unknown[0], "unknown key; the file holds [[exception]] tables")
    entries = doc.get("exception", [])
    if not isinstance(entries, list):
        raise _fail(source, None, "exception", "must be written as [[exception]] tables")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if _HEADER.match(line)]
    return tuple(
        _exception(entry, source, lines[i] if i < len(lines) else 0)
        for i, entry in enumerate(entries)
    )


def load_exceptions(path: str | Path) -> tuple[Exception_, ...]:
    """Read and check an exceptions file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise _fail(str(path), None, None, f"cannot read ({error.strerror or error})") from None
    if len(data) > MAX_BYTES:
        raise _fail(str(path), None, None, f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _fail(str(path), None, None, f"not UTF-8 text (byte {error.start})") from None
    return parse_exceptions(text, str(path))


__all__ = ["DISTRO_WORDS", "Exception_", "load_exceptions", "parse_exceptions"]
