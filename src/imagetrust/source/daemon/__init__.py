"""The local image cache of a Docker-Engine-API daemon (Docker, or podman's API service).

Names are exported lazily (PEP 562): importing :mod:`imagetrust.source.daemon.model` for a type
must not load the HTTP client (httpx costs ~0.13 s of start-up), which a scan of a local archive
never uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagetrust.lazy import lazy_exports

if TYPE_CHECKING:
    from imagetrust.source.daemon.client import DaemonClient
    from imagetrust.source.daemon.discovery import DaemonEndpoint, candidate_endpoints
    from imagetrust.source.daemon.model import ImageSummary, LocalImageInfo
    from imagetrust.source.daemon.source import DaemonSource

_EXPORTS = {
    "DaemonClient": "imagetrust.source.daemon.client",
    "DaemonEndpoint": "imagetrust.source.daemon.discovery",
    "DaemonSource": "imagetrust.source.daemon.source",
    "ImageSummary": "imagetrust.source.daemon.model",
    "LocalImageInfo": "imagetrust.source.daemon.model",
    "candidate_endpoints": "imagetrust.source.daemon.discovery",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "DaemonClient",
    "DaemonEndpoint",
    "DaemonSource",
    "ImageSummary",
    "LocalImageInfo",
    "candidate_endpoints",
]
