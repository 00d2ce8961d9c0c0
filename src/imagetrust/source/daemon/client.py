"""A small Docker Engine API client over a unix socket (or plain HTTP on loopback).

Only the read-only image endpoints a scanner needs. Works against Docker and podman's API
service; requests carry no API version prefix, so each daemon answers with its current version.
Exports are streamed to a file in chunks: an image never has to fit in memory.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from imagetrust.errors import NetworkError, NotFoundError, SourceError
from imagetrust.oci.content import Platform
from imagetrust.source.daemon.discovery import DaemonEndpoint
from imagetrust.source.daemon.model import ImageSummary, LocalImageInfo

CHUNK_SIZE = 1024 * 1024
_MAX_JSON = 64 * 1024 * 1024


def _strings(value: Any) -> tuple[str, ...]:
    """A list of strings from JSON; Docker sends null or ``["<none>:<none>"]`` for none."""
    if not isinstance(value, list):
        return ()
    return tuple(
        v for v in value if isinstance(v, str) and v not in ("<none>:<none>", "<none>@<none>")
    )


def _created(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _platform(body: dict[str, Any]) -> Platform | None:
    os_name, arch = body.get("Os"), body.get("Architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
        return None
    variant = body.get("Variant")
    return Platform(os_name, arch, variant if isinstance(variant, str) and variant else None)


class DaemonClient:
    """Read-only image endpoints of one daemon; close it (or use ``with``) when done."""

    def __init__(self, endpoint: DaemonEndpoint | Path | str, *, timeout: float = 30.0) -> None:
        if not isinstance(endpoint, DaemonEndpoint):
            endpoint = DaemonEndpoint.unix(endpoint)
        self.endpoint = endpoint
        transport = (
            httpx.HTTPTransport(uds=str(endpoint.socket_path))
            if endpoint.socket_path is not None
            else httpx.HTTPTransport()
        )
        self._http = httpx.Client(
            transport=transport,
            base_url=endpoint.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"User-Agent": "imagetrust"},
        )

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing --------------------------------------------------------------------------
    def _unreachable(self, error: Exception) -> NetworkError:
        return NetworkError(
            f"no Docker daemon reachable at {self.endpoint} ({type(error).__name__})",
            hint="start Docker or podman's API service, set DOCKER_HOST, or use --source registry",
        )

    def _failed(self, response: httpx.Response, what: str) -> SourceError:
        message = ""
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("message"), str):
                message = body["message"].splitlines()[0][:300]
        except ValueError:
            message = response.text.splitlines()[0][:300] if response.text else ""
        detail = f": {message}" if message else ""
        return SourceError(
            f"the Docker daemon at {self.endpoint} failed to {what} "
            f"(HTTP {response.status_code}){detail}",
            hint="check the daemon's log, or use --source registry",
        )

    def _get(self, path: str) -> httpx.Response:
        try:
            return self._http.get(path)
        except httpx.TransportError as error:
            raise self._unreachable(error) from None

    def _json(self, path: str, what: str) -> Any:
        response = self._get(path)
        if response.status_code != 200:
            raise self._failed(response, what)
        if len(response.content) > _MAX_JSON:
            raise SourceError(f"the Docker daemon at {self.endpoint} sent an oversized answer")
        try:
            return response.json()
        except ValueError:
            raise SourceError(
                f"the Docker daemon at {self.endpoint} sent invalid JSON to {what}",
                hint="is DOCKER_HOST pointing at a Docker-compatible API?",
            ) from None

    @staticmethod
    def _image_path(name: str, suffix: str) -> str:
        if not name or name.startswith(("/", ".")) or ".." in name.split("/"):
            raise NotFoundError(f"image {name!r} is not in the local image cache")
        return f"/images/{quote(name, safe='/:@')}/{suffix}"

    # -- endpoints -------------------------------------------------------------------------
    def ping(self) -> None:
        """Raise :class:`NetworkError` unless the daemon answers ``/_ping`` with 200."""
        response = self._get("/_ping")
        if response.status_code != 200:
            raise self._unreachable(RuntimeError(f"HTTP {response.status_code}"))

    def version(self) -> dict[str, Any]:
        body = self._json("/version", "report its version")
        if not isinstance(body, dict):
            raise SourceError(f"the Docker daemon at {self.endpoint} sent a malformed /version")
        return body

    def list_images(self) -> list[ImageSummary]:
        body = self._json("/images/json", "list images")
        if not isinstance(body, list):
            raise SourceError(f"the Docker daemon at {self.endpoint} sent a malformed image list")
        rows: list[ImageSummary] = []
        for item in body:
            if not isinstance(item, dict) or not isinstance(item.get("Id"), str):
                continue
            created, size = item.get("Created"), item.get("Size")
            rows.append(
                ImageSummary(
                    image_id=item["Id"],
                    repo_tags=_strings(item.get("RepoTags")),
                    repo_digests=_strings(item.get("RepoDigests")),
                    created=created if isinstance(created, int) else 0,
                    size=size if isinstance(size, int) else 0,
                )
            )
        return rows

    def inspect(self, name: str) -> LocalImageInfo:
        """Details of one image by name or ID; 404 → :class:`NotFoundError`."""
        response = self._get(self._image_path(name, "json"))
        if response.status_code == 404:
            raise NotFoundError(
                f"image {name} is not in the local image cache at {self.endpoint}",
                hint="pull it first, or scan the registry with --source registry",
            )
        if response.status_code != 200:
            raise self._failed(response, f"inspect {name}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("Id"), str):
            raise SourceError(f"the Docker daemon at {self.endpoint} sent a malformed inspect")
        size = body.get("Size")
        return LocalImageInfo(
            image_id=body["Id"],
            repo_tags=_strings(body.get("RepoTags")),
            repo_digests=_strings(body.get("RepoDigests")),
            created=_created(body.get("Created")),
            platform=_platform(body),
            size=size if isinstance(size, int) else None,
        )

    def export(self, name: str, dest: BinaryIO) -> int:
        """Stream ``docker save NAME`` into ``dest`` chunk by chunk; return the bytes written."""
        written = 0
        try:
            with self._http.stream("GET", self._image_path(name, "get")) as response:
                if response.status_code == 404:
                    raise NotFoundError(
                        f"image {name} is not in the local image cache at {self.endpoint}",
                        hint="pull it first, or scan the registry with --source registry",
                    )
                if response.status_code != 200:
                    response.read()
                    raise self._failed(response, f"export {name}")
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    dest.write(chunk)
                    written += len(chunk)
        except httpx.TransportError as error:
            raise NetworkError(
                f"exporting {name} from the Docker daemon at {self.endpoint} failed after "
                f"{written} bytes ({type(error).__name__})",
                hint="retry, or scan the registry with --source registry",
            ) from None
        return written
