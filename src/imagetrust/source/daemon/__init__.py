"""The local image cache of a Docker-Engine-API daemon (Docker, or podman's API service)."""

from imagetrust.source.daemon.client import DaemonClient
from imagetrust.source.daemon.discovery import DaemonEndpoint, candidate_endpoints
from imagetrust.source.daemon.model import ImageSummary, LocalImageInfo
from imagetrust.source.daemon.source import DaemonSource

__all__ = [
    "DaemonClient",
    "DaemonEndpoint",
    "DaemonSource",
    "ImageSummary",
    "LocalImageInfo",
    "candidate_endpoints",
]
