"""What every use case shares within one run: settings, the database, and what to tell people.

Use cases never print. Notes and warnings go through :class:`Messages`: the CLI hands a sink that
writes them to stderr as they come; a library caller reads ``messages.warnings`` afterwards.
Each message is said once, however many images repeat it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from imagetrust.config import Settings, load_settings
from imagetrust.http.breaker import Breaker, run_scope

if TYPE_CHECKING:
    from datetime import datetime

    from imagetrust.assess.official import OfficialLibrary
    from imagetrust.match.db.update import ProgressCallback
    from imagetrust.policy.policyfile import Policy
    from imagetrust.policy.suppress import SuppressionInputs

Sink = Callable[[str, str], None]
"""``sink(kind, text)``: kind is ``note`` or ``warning``."""


@dataclass
class Messages:
    """Notes and warnings for the person running a use case, each said once."""

    sink: Sink | None = None
    said: list[tuple[str, str]] = field(default_factory=list)

    def note(self, text: str) -> None:
        self._say("note", text)

    def warning(self, text: str) -> None:
        self._say("warning", text)

    def _say(self, kind: str, text: str) -> None:
        if (kind, text) in self.said:
            return
        self.said.append((kind, text))
        if self.sink is not None:
            self.sink(kind, text)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(text for kind, text in self.said if kind == "warning")

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(text for kind, text in self.said if kind == "note")


@dataclass
class Runtime:
    """One run of one or more use cases (the CLI makes one per command)."""

    settings: Settings = field(default_factory=load_settings)
    db: Path | None = None
    """The vulnerability database file (None: the default in the cache directory)."""
    messages: Messages = field(default_factory=Messages)
    progress: ProgressCallback | None = None
    """Feed download progress (the CLI's bars); None is silent."""
    policy_path: Path | None = None
    """``--policy FILE``; None: ``IMAGETRUST_POLICY``, else ``./imagetrust.toml``, else the
    shipped default."""
    vex: tuple[Path, ...] = ()
    """VEX documents given for this run (the policy file may list more)."""
    exceptions: Path | None = None
    """The exceptions file given for this run (else the policy file's, if any)."""
    now: datetime | None = None
    """The clock exceptions expire by (None: now)."""
    breaker: Breaker = field(default_factory=Breaker, repr=False)
    """This run's circuit breaker: an endpoint that refused or timed out is not asked again."""
    _library: OfficialLibrary | None = field(default=None, repr=False)
    _library_loaded: bool = field(default=False, repr=False)
    _policy: Policy | None = field(default=None, repr=False)
    _suppression: SuppressionInputs | None = field(default=None, repr=False)

    @property
    def db_path(self) -> Path:
        from imagetrust.match.db import resolve_db_path

        return resolve_db_path(self.db, self.settings.cache_dir)

    def scope(self) -> AbstractContextManager[Breaker]:
        """Run a use case inside this run's breaker (``with runtime.scope(): ...``)."""
        return run_scope(self.breaker)

    def policy(self) -> Policy:
        """The effective policy (the default merged with the policy file found), loaded once."""
        if self._policy is None:
            from imagetrust.policy.policyfile import find_policy_file, load_policy

            self._policy = load_policy(find_policy_file(self.policy_path))
        return self._policy

    def suppression(self) -> SuppressionInputs:
        """VEX statements and exceptions this run applies: those given, plus the policy
        file's (``vex = [...]``, ``exceptions = "..."``); loaded once, errors name the file."""
        if self._suppression is None:
            from imagetrust.policy.discovery import find_policy_file
            from imagetrust.policy.model import SuppressionInputs

            if not self.vex and self.exceptions is None and find_policy_file(
                self.policy_path
            ) is None:  # nothing to apply: no need to load the policy machinery
                self._suppression = SuppressionInputs()
                return self._suppression
            from imagetrust.policy.suppress import load_inputs

            policy = self.policy()
            self._suppression = load_inputs(
                [*self.vex, *policy.vex], self.exceptions or policy.exceptions
            )
        return self._suppression

    def library(self, *, fetch: bool = True) -> OfficialLibrary | None:
        """The official-images library, loaded once per run (fetched on first use unless
        offline; see :func:`imagetrust.app.library.official_library`)."""
        if not self._library_loaded:
            from imagetrust.app.library import official_library

            self._library = official_library(self.settings, self.messages, fetch=fetch)
            self._library_loaded = True
        return self._library


def runtime_for(settings: Settings | None = None, runtime: Runtime | None = None) -> Runtime:
    """The caller's runtime, or a fresh one over ``settings`` (library calls pass either)."""
    if runtime is not None:
        return runtime
    return Runtime(settings if settings is not None else load_settings())
