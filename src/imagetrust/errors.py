"""One error root for everything a user can cause or fix.

The CLI catches :class:`ImagetrustError` in exactly one place and prints ``str(error)``: a single
line saying what is wrong and what to try. Anything else escaping is a bug and shows a traceback.

Tree::

    ImagetrustError
    ├── UsageError                 bad flags or option values
    ├── ReferenceError_            an image reference that does not parse
    ├── SourceError                getting bytes failed
    │   ├── RegistryError          the registry answered with an error
    │   │   ├── AuthenticationError   401/403, bad or missing credentials
    │   │   ├── NotFoundError         404, unknown repository, tag or digest
    │   │   └── RateLimitError        429 after retries
    │   ├── NetworkError           could not connect, timed out
    │   └── ArchiveError           a docker-archive / OCI layout / rootfs cannot be read
    ├── IntegrityError             content does not match its digest
    ├── ManifestError              malformed or unsupported manifest / config
    ├── LayerError                 a layer is truncated, corrupt or hostile
    ├── CatalogError               package inventory failed as a whole
    ├── DatabaseError              vulnerability database missing, stale or corrupt
    ├── FeedError                  a feed download or parse failed
    └── PolicyError                a policy file is invalid
"""

from __future__ import annotations


class ImagetrustError(Exception):
    """Root of every error meant for the user: ``str()`` is one actionable line."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class UsageError(ImagetrustError):
    """Bad flags or option values."""


class ReferenceError_(ImagetrustError):  # noqa: N801 - avoid shadowing the builtin ReferenceError
    """An image reference that does not parse."""


class SourceError(ImagetrustError):
    """Getting bytes from a registry, archive or directory failed."""


class RegistryError(SourceError):
    """The registry answered with an error."""


class AuthenticationError(RegistryError):
    """401/403: credentials missing or wrong."""


class NotFoundError(RegistryError):
    """404: unknown repository, tag or digest."""


class RateLimitError(RegistryError):
    """429 Too Many Requests, still after retries."""


class NetworkError(SourceError):
    """Could not connect, or the connection failed mid-way."""


class ArchiveError(SourceError):
    """A docker-archive, OCI layout or root filesystem cannot be read."""


class IntegrityError(ImagetrustError):
    """Content does not match the digest that names it; nothing is cached."""


class ManifestError(ImagetrustError):
    """A manifest, index or config is malformed or of an unsupported kind."""


class LayerError(ImagetrustError):
    """A layer is truncated, corrupt or hostile."""


class CatalogError(ImagetrustError):
    """The package inventory failed as a whole (single packages become skips instead)."""


class DatabaseError(ImagetrustError):
    """The vulnerability database is missing, corrupt or lacks a needed feed."""


class FeedError(ImagetrustError):
    """A vulnerability feed could not be downloaded or parsed."""


class PolicyError(ImagetrustError):
    """A policy or ignore file is invalid."""


class GateFailed(ImagetrustError):
    """Not an error: a requested gate (``--exit-code``, policy) failed. Exit code 2."""

    exit_code = 2
