"""OCI Distribution client: authenticated, retried, mirrored, verified and cached pulls."""

from __future__ import annotations

from imagetrust.http.retry import RetryPolicy
from imagetrust.source.registry.client import RegistryClient
from imagetrust.source.registry.source import RegistrySource

__all__ = ["RegistryClient", "RegistrySource", "RetryPolicy"]
