"""A small Docker Engine API client over a unix socket (or plain HTTP on loopback).

Only the read-only image endpoints a scanner needs. Works against Docker and podman's API
service; requests carry no API version prefix, so each daemon answers with its current version.
Exports are streamed to a file in chunks: an image never has to fit in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from imagetrust import jsonutil
from imagetrust.errors import NetworkError, NotFoundError, SourceError
from imagetrust.http.deadline import guard_transport, start_request
from imagetrust.oci.content import Platform
from imagetrust.source.daemon.discovery import DaemonEndpoint
from imagetrust.source.daemon.model import ImageSummary, LocalImageInfo

CHUNK_SIZE = 1024 * 1024
_MAX_JSON = 64 * 1024 * 1024
_MAX_ERROR_BODY = 64 * 1024
"""Only the first line of an error message is shown; more is never buffered."""


@dataclass(frozen=True, slots=True)
class _Answer:
    """A daemon response read with a size cap (``overflow``: the body went past the cap)."""

    status: int
    body: bytes
    overflow: bool


def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the body; the flag says whether there was more."""
    body = bytearray()
    for chunk in response.iter_bytes(CHUNK_SIZE):
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
    return bytes(body), False


def _first_line(text: str) -> str:
    """The first non-blank line, shortened; ``""`` for an empty or blank message."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


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
        transport = guard_transport(
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

    def _failed(self, status: int, body: bytes, what: str) -> SourceError:
        message = ""
        try:
            value = jsonutil.loads(body, what="error body", error=SourceError)
        except SourceError:
            message = _first_line(body.decode("utf-8", "replace"))
        else:
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                message = _first_line(value["message"])
        detail = f": {message}" if message else ""
        return SourceError(
            f"the Docker daemon at {self.endpoint} failed to {what} (HTTP {status}){detail}",
            hint="check the daemon's log, or use --source registry",
        )

    def _get(self, path: str, limit: int | None = None) -> _Answer:
        """GET ``path``; a success body over ``limit`` is refused, an error body truncated."""
        try:
            start_request()  # a daemon that trickles or hangs ends at the total deadline
            with self._http.stream("GET", path) as response:
                ok = response.status_code == 200
                cap = (limit or _MAX_JSON) if ok else _MAX_ERROR_BODY
                body, overflow = _read_capped(response, cap)
                return _Answer(response.status_code, body, overflow)
        except httpx.TransportError as error:
            raise self._unreachable(error) from None

    def _json(self, path: str, what: str) -> Any:
        answer = self._get(path)
        if answer.status != 200:
            raise self._failed(answer.status, answer.body, what)
        return self._parse(answer, what)

    def _parse(self, answer: _Answer, what: str) -> Any:
        if answer.overflow:
            raise SourceError(
                f"the Docker daemon at {self.endpoint} sent more than {_MAX_JSON} bytes to {what}",
                hint="is DOCKER_HOST pointing at a Docker-compatible API?",
            )
        try:
            return jsonutil.loads(answer.body, what="its answer", error=SourceError)
        except SourceError as error:
            raise SourceError(
                f"the Docker daemon at {self.endpoint} sent invalid JSON to {what} "
                f"({error.message})",
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
        answer = self._get("/_ping", limit=1024)
        if answer.status != 200:
            raise self._unreachable(RuntimeError(f"HTTP {answer.status}"))

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
        answer = self._get(self._image_path(name, "json"))
        if answer.status == 404:
            raise NotFoundError(
                f"image {name} is not in the local image cache at {self.endpoint}",
                hint="pull it first, or scan the registry with --source registry",
            )
        if answer.status != 200:
            raise self._failed(answer.status, answer.body, f"inspect {name}")
        body = self._parse(answer, f"inspect {name}")
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
            start_request()
            with self._http.stream("GET", self._image_path(name, "get")) as response:
                if response.status_code == 404:
                    raise NotFoundError(
                        f"image {name} is not in the local image cache at {self.endpoint}",
                        hint="pull it first, or scan the registry with --source registry",
                    )
                if response.status_code != 200:
                    body, _ = _read_capped(response, _MAX_ERROR_BODY)
                    raise self._failed(response.status_code, body, f"export {name}")
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
