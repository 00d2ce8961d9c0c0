"""OCI Distribution client: manifests, blobs and tags, verified, cached, retried, authenticated.

One :class:`RegistryClient` per run holds the HTTP connection pool, the token cache and the blob
cache, so every image of a scan shares them. Nothing it returns is unverified: manifests are
hashed in memory, blobs while they stream into the cache.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from imagetrust import jsonutil
from imagetrust.config import Settings
from imagetrust.errors import (
    ImagetrustError,
    IntegrityError,
    ManifestError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    RegistryError,
    SourceError,
)
from imagetrust.http.body import CHUNK, read_capped
from imagetrust.http.client import EventHooks, HttpClient
from imagetrust.http.guard import is_loopback, url_host
from imagetrust.http.retry import RETRY_STATUSES, RetryPolicy
from imagetrust.oci import mediatypes as mt
from imagetrust.oci.content import Descriptor, RawManifest
from imagetrust.reference.parse import ImageReference
from imagetrust.source.cache import BlobCache, digest_of, split_digest, verify_digest
from imagetrust.source.registry.auth import Authenticator, auth_failed
from imagetrust.source.registry.credentials import CredentialStore
from imagetrust.source.registry.endpoints import Endpoint, mirror_endpoint, registry_endpoint

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""Registries refuse bigger manifests; a bigger answer is hostile or broken."""
MAX_BLOB_BYTES = 64 * 1024 * 1024
"""Cap for blobs read into memory (configs, attestations): the size the attestation reader
accepts. Checked against the descriptor before downloading and against the bytes while they
stream; layers are never read into memory, only streamed to the cache."""
_MAX_TAG_PAGES = 1000
_DIGEST_REF = re.compile(r"^sha(256|512):")
_T = TypeVar("_T")


class RegistryClient:
    """Talks to registries (and their mirrors) for one run. Close it, or use it as a context."""

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy | None = None,
        event_hooks: EventHooks | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.cache = BlobCache(settings.blob_dir)
        self.ratelimit_remaining: int | None = None
        """Docker Hub's ``ratelimit-remaining`` from the latest response that carried it."""
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._insecure = settings.insecure_registries
        self._mirrors = {
            registry: tuple(mirror_endpoint(url, self._insecure) for url in urls)
            for registry, urls in settings.registry_mirrors.items()
        }
        hooks = {k: list(v) for k, v in (event_hooks or {}).items()}
        hooks["response"] = [self._note_ratelimit, *hooks.get("response", [])]
        # Every request, redirect hops and token realms included, passes the plain-HTTP check;
        # an endpoint that refused or timed out is not asked again in this run.
        self._http = HttpClient(
            timeout=settings.timeout,
            insecure=self._insecure,
            retry=self._retry,
            sleep=sleep,
            event_hooks=hooks,
        )
        self._auth = Authenticator(CredentialStore(settings.docker_config), self._send)
        self._lock = threading.Lock()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- public API -------------------------------------------------------------------------

    def endpoints(self, ref: ImageReference) -> tuple[Endpoint, ...]:
        """Mirrors of ``ref.registry`` in order, then the registry itself (unless offline)."""
        found = list(self._mirrors.get(ref.registry, ()))
        if not self.settings.offline or is_loopback(ref.registry):
            found.append(registry_endpoint(ref.registry, self._insecure))
        return tuple(found)

    def get_manifest(self, ref: ImageReference, reference: str | None = None) -> RawManifest:
        """The manifest or index named by ``reference`` (default: the ref's digest or tag)."""
        target = reference or ref.manifest_ref
        label = _label(ref, target)

        def fetch(endpoint: Endpoint) -> tuple[bytes, str, str | None]:
            url = f"{endpoint.base_url}/v2/{ref.repository}/manifests/{target}"
            with self._open(endpoint, "GET", url, ref, {"Accept": mt.ACCEPT_MANIFESTS}) as resp:
                self._expect_ok(resp, endpoint, f"manifest {label}")
                body = _read_limited(resp, MAX_MANIFEST_BYTES, label)
                return (
                    body,
                    resp.headers.get("Content-Type", ""),
                    resp.headers.get("Docker-Content-Digest"),
                )

        body, content_type, header_digest = self._each_endpoint(ref, fetch)
        if _DIGEST_REF.match(target):
            verify_digest(body, target, f"manifest {label}")
        elif header_digest:
            verify_digest(body, header_digest.strip(), f"manifest {label}")
        return RawManifest(_manifest_type(body, content_type, label), digest_of(body), body)

    def head_manifest(self, ref: ImageReference) -> Descriptor:
        """Digest, media type and size of what ``ref`` points at, without downloading it.

        A HEAD does not count against Docker Hub's pull limit. Registries that omit
        ``Docker-Content-Digest`` get a GET instead, so the digest is always the real one.
        """
        target = ref.manifest_ref
        label = _label(ref, target)

        def head(endpoint: Endpoint) -> Descriptor | None:
            url = f"{endpoint.base_url}/v2/{ref.repository}/manifests/{target}"
            with self._open(endpoint, "HEAD", url, ref, {"Accept": mt.ACCEPT_MANIFESTS}) as resp:
                self._expect_ok(resp, endpoint, f"manifest {label}")
                digest = resp.headers.get("Docker-Content-Digest", "").strip()
                if not digest:
                    return None
                split_digest(digest)
                if _DIGEST_REF.match(target) and digest != target:
                    raise IntegrityError(
                        f"{endpoint.host} reports digest {digest} for {label}",
                        hint="the registry or mirror is misbehaving; try without the mirror",
                    )
                media = resp.headers.get("Content-Type", "").split(";")[0].strip()
                try:
                    size = int(resp.headers.get("Content-Length", "-1"))
                except ValueError:
                    size = -1
                return Descriptor(media_type=media, digest=digest, size=size)

        found = self._each_endpoint(ref, head)
        if found is not None:
            return found
        raw = self.get_manifest(ref)
        return Descriptor(media_type=raw.media_type, digest=raw.digest, size=len(raw.data))

    def fetch_blob(
        self, ref: ImageReference, descriptor: Descriptor, *, max_size: int | None = None
    ) -> Path:
        """The verified blob in the cache, downloading it first when it is not there yet.

        The download stops as soon as more bytes arrive than the descriptor declares (or than
        ``max_size``); a blob declared larger than ``max_size`` is not requested at all.
        """
        what = f"blob {descriptor.digest} of {ref.name}"
        if max_size is not None and descriptor.size > max_size:
            raise ManifestError(
                f"{what} is declared as {descriptor.size} bytes, more than the {max_size} "
                "allowed for a config or attestation",
                hint="the manifest is hostile or broken; nothing was downloaded",
            )
        cached = self.cache.path_for(descriptor.digest)
        if cached is not None:
            _check_cached_size(cached, descriptor, max_size, what)
            return cached
        size = descriptor.size if descriptor.size >= 0 else None

        def download(endpoint: Endpoint) -> Path:
            url = f"{endpoint.base_url}/v2/{ref.repository}/blobs/{descriptor.digest}"
            attempt = 1
            while True:
                try:
                    with self._open(endpoint, "GET", url, ref, {}) as resp:
                        self._expect_ok(resp, endpoint, what)
                        with self.cache.writer(descriptor.digest, size) as blob:
                            for chunk in resp.iter_bytes(CHUNK):
                                if max_size is not None and blob.written + len(chunk) > max_size:
                                    raise ManifestError(
                                        f"{what} is larger than the {max_size} bytes allowed "
                                        "for a config or attestation",
                                        hint="the registry is hostile or broken; nothing was "
                                        "cached",
                                    )
                                blob.write(chunk)
                    path = self.cache.path_for(descriptor.digest)
                    assert path is not None
                    return path
                except _StreamBroken:
                    if attempt >= self._retry.attempts:
                        raise
                    self._sleep(self._retry.delay(attempt, None))
                    attempt += 1

        return self._each_endpoint(ref, download)

    def blob_bytes(self, ref: ImageReference, descriptor: Descriptor) -> bytes:
        """A small blob (config, attestation) as verified bytes, at most ``MAX_BLOB_BYTES``."""
        return self.fetch_blob(ref, descriptor, max_size=MAX_BLOB_BYTES).read_bytes()

    def list_tags(self, ref: ImageReference) -> list[str]:
        """Every tag of the repository, following ``Link: <…>; rel="next"`` pagination."""

        def fetch(endpoint: Endpoint) -> list[str]:
            tags: list[str] = []
            url: str | None = f"{endpoint.base_url}/v2/{ref.repository}/tags/list"
            for _ in range(_MAX_TAG_PAGES):
                if url is None:
                    return tags
                with self._open(endpoint, "GET", url, ref, {"Accept": "application/json"}) as r:
                    self._expect_ok(r, endpoint, f"repository {ref.name}")
                    body = _read_limited(r, 64 * 1024 * 1024, f"tags of {ref.name}")
                    next_link = r.links.get("next", {}).get("url")
                tags.extend(_parse_tags(body, ref))
                url = _same_origin(endpoint.base_url, url, next_link)
            raise RegistryError(
                f"{endpoint.host} returned more than {_MAX_TAG_PAGES} pages of tags for {ref.name}"
            )

        return self._each_endpoint(ref, fetch)

    # -- transport --------------------------------------------------------------------------

    def _each_endpoint(self, ref: ImageReference, operation: Callable[[Endpoint], _T]) -> _T:
        """Try mirrors in order, then the registry; a mirror's failure falls through."""
        endpoints = self.endpoints(ref)
        if not endpoints:
            raise NetworkError(
                f"offline: not contacting {ref.registry} for {ref.name}",
                hint=f"drop --offline or configure a registry mirror for {ref.registry}",
            )
        last: SourceError | None = None
        for endpoint in endpoints:
            try:
                return operation(endpoint)
            except SourceError as error:
                if not endpoint.mirror:
                    raise
                last = error
        assert last is not None
        raise last

    @contextmanager
    def _open(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        ref: ImageReference,
        headers: Mapping[str, str],
    ) -> Iterator[httpx.Response]:
        """A streamed, authenticated response; answers a 401 challenge once."""
        scope = f"repository:{ref.repository}:pull"
        request_headers = dict(headers)
        authorization = self._auth.header(endpoint.base_url, endpoint.host, scope)
        if authorization:
            request_headers["Authorization"] = authorization
        response = self._send(method, url, headers=request_headers)
        try:
            if response.status_code == 401:
                response.close()
                self._auth.learn(endpoint.base_url, response.headers.get("WWW-Authenticate"), scope)
                authorization = self._auth.header(endpoint.base_url, endpoint.host, scope)
                if authorization is None:
                    raise auth_failed(
                        endpoint.host, scope, self._auth.credentials_for(endpoint.host)
                    )
                request_headers["Authorization"] = authorization
                response = self._send(method, url, headers=request_headers)
            if response.status_code in (401, 403):
                raise auth_failed(endpoint.host, scope, self._auth.credentials_for(endpoint.host))
            try:
                yield response
            except httpx.RequestError as error:
                raise _StreamBroken.of(endpoint.host, error) from None
        finally:
            response.close()

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One streamed request with retries on connection errors, 429 and 5xx (honouring
        Retry-After), through the HTTP layer: the plain-HTTP rule holds on every redirect hop,
        ``Authorization`` goes to ``url``'s origin only, and a dead endpoint fails fast.
        """
        host = url_host(url)
        public = dict(headers or {})
        secret = {k: public.pop(k) for k in list(public) if k.lower() == "authorization"}
        try:
            response = self._http.send(
                method, url, headers=public, secrets=secret, params=params, data=data
            )
        except httpx.TooManyRedirects:
            raise RegistryError(
                f"{host} redirected too many times for {urlsplit(url).path}",
                hint="the registry or a proxy in between is misconfigured",
            ) from None
        except httpx.TransportError as error:
            raise _network_error(host, error) from None
        if response.status_code in RETRY_STATUSES:
            response.close()
            retry_after = response.headers.get("Retry-After")
            raise _status_error(response, host, self._retry.attempts, retry_after)
        return response

    def _note_ratelimit(self, response: httpx.Response) -> None:
        value = response.headers.get("ratelimit-remaining")
        if value:
            match = re.match(r"\s*(\d+)", value)
            if match:
                with self._lock:
                    self.ratelimit_remaining = int(match.group(1))

    def _expect_ok(self, response: httpx.Response, endpoint: Endpoint, what: str) -> None:
        if 200 <= response.status_code < 300:
            return
        code = _error_code(response)
        where = f"{endpoint.host} (mirror)" if endpoint.mirror else endpoint.host
        if response.status_code == 404:
            raise NotFoundError(
                f"{what} not found on {where}" + (f" ({code})" if code else ""),
                hint="check the repository name, tag or digest",
            )
        raise RegistryError(
            f"{where} answered HTTP {response.status_code}"
            + (f" {code}" if code else "")
            + f" for {what}",
            hint="retry later; if it persists, check the registry's status",
        )


# -- helpers ------------------------------------------------------------------------------------


def _label(ref: ImageReference, target: str) -> str:
    sep = "@" if _DIGEST_REF.match(target) else ":"
    return f"{ref.name}{sep}{target}"


def _read_limited(response: httpx.Response, limit: int, label: str) -> bytes:
    return read_capped(
        response,
        limit,
        too_large=lambda: ManifestError(f"{label}: response is larger than {limit} bytes"),
    )


def _error_code(response: httpx.Response) -> str | None:
    """The first ``errors[].code`` of a registry error body (MANIFEST_UNKNOWN …), if any."""
    if response.request.method == "HEAD":
        return None
    try:
        body = jsonutil.loads(_read_limited(response, 64 * 1024, "error body"), what="error body")
        code = body["errors"][0]["code"]
    except (KeyError, IndexError, TypeError, ImagetrustError, httpx.HTTPError):
        return None
    return str(code)[:64] if isinstance(code, str) else None


def _manifest_type(body: bytes, content_type: str, label: str) -> str:
    """The manifest's media type from Content-Type, its ``mediaType`` field, or its shape."""
    declared = content_type.split(";")[0].strip().lower()
    try:
        doc = jsonutil.loads(body, what=f"manifest {label}")
    except ManifestError as error:
        raise ManifestError(
            error.message, hint="the registry served a corrupt manifest; re-push the image"
        ) from None
    if not isinstance(doc, dict):
        raise ManifestError(f"manifest {label} is not a JSON object", hint="re-push the image")
    if declared in mt.SCHEMA1_TYPES or doc.get("schemaVersion") == 1:
        raise ManifestError(
            f"manifest {label} is unsupported (Docker schema 1)",
            hint="re-push the image with a current client",
        )
    if declared in mt.INDEX_TYPES or declared in mt.MANIFEST_TYPES:
        return declared
    field_type = doc.get("mediaType")
    if isinstance(field_type, str) and field_type:
        return field_type
    if isinstance(doc.get("manifests"), list):
        return mt.OCI_INDEX
    if isinstance(doc.get("layers"), list) or isinstance(doc.get("config"), dict):
        return mt.OCI_MANIFEST
    if declared and declared not in ("application/json", "text/plain"):
        return declared
    raise ManifestError(f"manifest {label} has no recognisable media type", hint="re-push it")


def _parse_tags(body: bytes, ref: ImageReference) -> list[str]:
    doc = jsonutil.loads(body, what=f"the tag list of {ref.name}", error=RegistryError)
    tags = (doc.get("tags") or []) if isinstance(doc, dict) else None
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise RegistryError(f"the tag list of {ref.name} is malformed")
    return tags


def _same_origin(base_url: str, current: str, link: str | None) -> str | None:
    """Resolve a pagination link; refuse one that leaves the registry (credentials go along)."""
    if not link:
        return None
    resolved = urljoin(current, link)
    if urlsplit(resolved)[:2] != urlsplit(base_url)[:2]:
        raise RegistryError(
            f"{urlsplit(base_url).netloc} sent a pagination link to another host",
            hint="the registry is misconfigured or hostile",
        )
    return resolved


def _check_cached_size(
    path: Path, descriptor: Descriptor, max_size: int | None, what: str
) -> None:
    """A cached blob is verified content, but the descriptor asking for it may still lie."""
    try:
        actual = path.stat().st_size
    except OSError as error:
        raise SourceError(f"cannot read cached {what}: {error.strerror}") from None
    if descriptor.size >= 0 and actual != descriptor.size:
        raise IntegrityError(
            f"{what} has {actual} bytes, its descriptor says {descriptor.size}",
            hint="the manifest is inconsistent; re-push the image",
        )
    if max_size is not None and actual > max_size:
        raise ManifestError(
            f"{what} is {actual} bytes, more than the {max_size} allowed for a config or "
            "attestation"
        )


class _StreamBroken(NetworkError):
    """The connection failed while a response body was being read (worth a fresh try)."""

    @classmethod
    def of(cls, host: str, error: httpx.RequestError) -> _StreamBroken:
        return cls(
            f"connection to {host} broke during a download ({type(error).__name__})",
            hint="check the network and retry; completed blobs stay cached",
        )


def _network_error(host: str, error: httpx.RequestError) -> NetworkError:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return NetworkError(
                f"TLS certificate of {host} could not be verified",
                hint="install the registry's CA certificate, or mark it insecure only if you "
                "trust the network",
            )
        cause = cause.__cause__ or cause.__context__
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "connection failed"
    return NetworkError(
        f"cannot reach {host}: {kind} ({type(error).__name__})",
        hint="check the network or proxy settings, or configure a registry mirror",
    )


def _status_error(
    response: httpx.Response, host: str, attempts: int, retry_after: str | None
) -> RegistryError:
    if response.status_code == 429:
        hint = "wait and retry"
        if retry_after:
            hint += f" (Retry-After: {retry_after.strip()[:40]})"
        remaining = response.headers.get("ratelimit-remaining")
        if remaining:
            hint += f"; ratelimit-remaining: {remaining.strip()[:40]}"
        return RateLimitError(
            f"{host} rate limit reached (HTTP 429) after {attempts} attempts",
            hint=hint + "; logging in raises Docker Hub's limit, a mirror avoids it",
        )
    return RegistryError(
        f"{host} answered HTTP {response.status_code} after {attempts} attempts",
        hint="the registry is failing; retry later",
    )
