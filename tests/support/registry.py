"""Real registries on loopback for tests: Debian's ``docker-registry`` plus small helpers.

- :func:`start_registry` runs ``docker-registry serve`` with filesystem storage in a temp dir, in
  one of three modes: ``none`` (anonymous), ``basic`` (htpasswd) or ``token`` (bearer tokens from
  :class:`TokenServer`, RS256 JWTs with an ``x5c`` header, the registry's documented token format).
- :class:`RegistryServer` pushes blobs, manifests, tiny images and indexes through the registry
  API, so fixtures need no daemon (``push_*``).
- :class:`FaultProxy` sits in front of a server and answers the first N requests with a chosen
  status (429 + Retry-After, 503 …); :class:`StaticServer` serves canned responses (malformed
  manifests). Both count requests.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import re
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

AuthMode = Literal["none", "basic", "token"]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- tiny images ---------------------------------------------------------------------------------


def make_layer(files: Mapping[str, bytes]) -> tuple[bytes, str]:
    """A gzip tar layer with ``files`` (deterministic): (compressed bytes, diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha256(tar_bytes)


@dataclass(frozen=True)
class Blob:
    media_type: str
    digest: str
    data: bytes = field(repr=False)

    def descriptor(self) -> dict[str, object]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}


@dataclass(frozen=True)
class PushedImage:
    """A single-platform image as pushed: its manifest, config and layers."""

    manifest: Blob
    config: Blob
    layers: tuple[Blob, ...]
    architecture: str


@dataclass(frozen=True)
class PushedIndex:
    index: Blob
    images: tuple[PushedImage, ...]


# -- token server ---------------------------------------------------------------------------------


class TokenServer:
    """Issues registry bearer tokens for one username/password (anonymous requests get 401)."""

    def __init__(self, workdir: Path, username: str, password: str, *, lifetime: int = 300) -> None:
        self.username = username
        self.password = password
        self.lifetime = lifetime
        self.service = "imagetrust-test-registry"
        self.issuer = "imagetrust-test-issuer"
        self.requests: list[dict[str, list[str]]] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imagetrust test token")])
        now = dt.datetime.now(dt.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = workdir / "token-cert.pem"
        self.cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def _token(self, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.username,
            "aud": self.service,
            "iat": now,
            "nbf": now - 10,
            "exp": now + self.lifetime,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        der = self._cert.public_bytes(serialization.Encoding.DER)
        headers = {"x5c": [base64.b64encode(der).decode()]}
        return jwt.encode(claims, self._key, algorithm="RS256", headers=headers)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                outer.requests.append(query)
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(
                    {"token": outer._token(query.get("scope", [])), "expires_in": outer.lifetime}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- push client ----------------------------------------------------------------------------------


class _PushAuth(httpx.Auth):
    """Answers the registry's challenge (Basic or Bearer with push scope) for pushes."""

    requires_request_body = True

    def __init__(self, username: str, password: str) -> None:
        self._basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self._last: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._last:
            request.headers["Authorization"] = self._last
        response = yield request
        if response.status_code != 401:
            return
        header = response.headers.get("WWW-Authenticate", "")
        params = dict(re.findall(r'(\w+)="([^"]*)"', header))
        if header.lower().startswith("basic"):
            request.headers["Authorization"] = self._basic
        else:
            query = {"service": params.get("service", ""), "scope": params.get("scope", "")}
            got = httpx.get(params["realm"], params=query, headers={"Authorization": self._basic})
            got.raise_for_status()
            request.headers["Authorization"] = "Bearer " + got.json()["token"]
        self._last = request.headers["Authorization"]
        yield request


@dataclass
class RegistryServer:
    """A running ``docker-registry``: ``url`` is ``http://127.0.0.1:PORT``, ``host`` host:port."""

    host: str
    url: str
    username: str | None
    password: str | None
    storage: Path
    auth: AuthMode
    process: subprocess.Popen[bytes] = field(repr=False)
    token_server: TokenServer | None = field(default=None, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)

    @property
    def http(self) -> httpx.Client:
        """An httpx client that can push to this registry (it answers auth challenges)."""
        if self._http is None:
            auth = (
                _PushAuth(self.username, self.password) if self.username and self.password else None
            )
            self._http = httpx.Client(base_url=self.url, auth=auth, timeout=30)
        return self._http

    def blob_path(self, digest: str) -> Path:
        """Where the registry keeps a blob's bytes (tests overwrite it to corrupt the blob)."""
        hexdigest = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"

    def push_blob(self, repo: str, data: bytes) -> str:
        digest = sha256(data)
        response = self.http.post(
            f"/v2/{repo}/blobs/uploads/",
            params={"digest": digest},
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if response.status_code == 202:  # no monolithic upload: PUT to the session
            location = response.headers["Location"]
            separator = "&" if "?" in location else "?"
            response = self.http.put(
                f"{location}{separator}digest={digest}",
                content=data,
                headers={"Content-Type": "application/octet-stream"},
            )
        if response.status_code != 201:
            raise RuntimeError(f"blob push failed: {response.status_code} {response.text[:200]}")
        return digest

    def push_manifest(self, repo: str, reference: str, data: bytes, media_type: str) -> str:
        response = self.http.put(
            f"/v2/{repo}/manifests/{reference}", content=data, headers={"Content-Type": media_type}
        )
        if response.status_code != 201:
            raise RuntimeError(
                f"manifest push failed: {response.status_code} {response.text[:300]}"
            )
        return sha256(data)

    def push_image(
        self,
        repo: str,
        tag: str | None,
        *,
        architecture: str = "amd64",
        files: Mapping[str, bytes] | None = None,
        docker: bool = False,
    ) -> PushedImage:
        """Push a one-layer image (OCI, or Docker schema 2 with ``docker=True``)."""
        content = files if files is not None else {"etc/hello": f"hello {architecture}\n".encode()}
        layer_data, diff_id = make_layer(content)
        config_data = json.dumps(
            {
                "architecture": architecture,
                "os": "linux",
                "created": "2024-01-01T00:00:00Z",
                "config": {"User": "1000"},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "test"}],
            },
            sort_keys=True,
        ).encode()
        layer = Blob(
            DOCKER_LAYER_GZIP if docker else OCI_LAYER_GZIP, sha256(layer_data), layer_data
        )
        config = Blob(DOCKER_CONFIG if docker else OCI_CONFIG, sha256(config_data), config_data)
        self.push_blob(repo, layer.data)
        self.push_blob(repo, config.data)
        media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
        manifest_data = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": media_type,
                "config": config.descriptor(),
                "layers": [layer.descriptor()],
            },
            indent=3,
        ).encode()
        manifest = Blob(media_type, sha256(manifest_data), manifest_data)
        self.push_manifest(repo, tag or manifest.digest, manifest_data, media_type)
        return PushedImage(manifest, config, (layer,), architecture)

    def push_index(
        self,
        repo: str,
        tag: str,
        architectures: tuple[str, ...] = ("amd64", "arm64"),
        *,
        docker: bool = False,
    ) -> PushedIndex:
        """Push per-platform images by digest, then an OCI index (or Docker manifest list)."""
        images = tuple(
            self.push_image(repo, None, architecture=arch, docker=docker) for arch in architectures
        )
        media_type = DOCKER_LIST if docker else OCI_INDEX
        entries = [
            {
                **image.manifest.descriptor(),
                "platform": {"os": "linux", "architecture": image.architecture},
            }
            for image in images
        ]
        data = json.dumps(
            {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}, indent=2
        ).encode()
        index = Blob(media_type, sha256(data), data)
        self.push_manifest(repo, tag, data, media_type)
        return PushedIndex(index, images)

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.token_server is not None:
            self.token_server.stop()


def start_registry(
    tmp_dir: Path, auth: AuthMode = "none", *, username: str = "user", password: str = "pass"
) -> RegistryServer:
    """Start ``docker-registry serve`` on a free loopback port; ready when it returns."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed (apt-get install docker-registry)")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    storage = tmp_dir / "storage"
    storage.mkdir(exist_ok=True)
    port = free_port()
    config: dict[str, object] = {
        "version": "0.1",
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
    }
    token_server = None
    if auth == "basic":
        htpasswd = subprocess.run(
            ["htpasswd", "-Bbn", username, password], check=True, capture_output=True
        ).stdout
        (tmp_dir / "htpasswd").write_bytes(htpasswd)
        config["auth"] = {
            "htpasswd": {"realm": "imagetrust-test", "path": str(tmp_dir / "htpasswd")}
        }
    elif auth == "token":
        token_server = TokenServer(tmp_dir, username, password)
        config["auth"] = {
            "token": {
                "realm": token_server.realm,
                "service": token_server.service,
                "issuer": token_server.issuer,
                "rootcertbundle": str(token_server.cert_path),
            }
        }
    config_path = tmp_dir / "registry.yml"
    config_path.write_text(json.dumps(config))  # YAML is a superset of JSON
    log = (tmp_dir / "registry.log").open("wb")
    process = subprocess.Popen(
        [binary, "serve", str(config_path)], stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    server = RegistryServer(
        host=f"127.0.0.1:{port}",
        url=f"http://127.0.0.1:{port}",
        username=username if auth != "none" else None,
        password=password if auth != "none" else None,
        storage=storage,
        auth=auth,
        process=process,
        token_server=token_server,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            output = (tmp_dir / "registry.log").read_text(errors="replace")[-500:]
            raise RuntimeError(f"docker-registry exited: {output}")
        try:
            if httpx.get(f"{server.url}/v2/", timeout=1).status_code in (200, 401):
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError("docker-registry did not become ready within 20 s")


# -- fault injection and canned responses ---------------------------------------------------------


class _Server:
    """A threaded loopback HTTP server that records request paths."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.port = self._server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _any(self) -> None:
                outer.requests.append((self.command, self.path))
                outer.handle(self)

            do_GET = do_HEAD = do_POST = do_PUT = _any  # noqa: N815

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _reply(
    handler: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], body: bytes
) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    if not any(key.lower() == "content-length" for key in headers):
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


class StaticServer(_Server):
    """Serves ``routes[path] = (status, headers, body)``; anything else is 404."""

    def __init__(self, routes: Mapping[str, tuple[int, Mapping[str, str], bytes]]) -> None:
        self.routes = dict(routes)
        super().__init__()

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        status, headers, body = self.routes.get(urlsplit(handler.path).path, (404, {}, b""))
        _reply(handler, status, headers, body)


class FaultProxy(_Server):
    """Forwards to ``upstream`` but answers the first ``failures`` requests with ``status``.

    ``failures=-1`` fails every request. Response headers (WWW-Authenticate, Docker-Content-Digest)
    pass through unchanged.
    """

    def __init__(
        self,
        upstream: str,
        *,
        failures: int = 1,
        status: int = 429,
        headers: Mapping[str, str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.extra_headers = dict(extra_headers or {})
        """Added to every forwarded answer (e.g. Docker Hub's ``ratelimit-remaining``)."""
        self.failures = failures
        self.status = status
        self.fault_headers = dict(headers if headers is not None else {"Retry-After": "1"})
        self.failed = 0
        self._upstream = httpx.Client(timeout=30)
        super().__init__()

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        if self.failures < 0 or self.failed < self.failures:
            self.failed += 1
            _reply(
                handler, self.status, self.fault_headers, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}'
            )
            return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        skip = {"host", "content-length", "connection", "accept-encoding"}
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in skip}
        answer = self._upstream.request(
            handler.command, self.upstream + handler.path, headers=headers, content=body
        )
        drop = {"transfer-encoding", "connection", "content-encoding"}
        if handler.command != "HEAD":
            drop.add("content-length")
        passed = {k: v for k, v in answer.headers.items() if k.lower() not in drop}
        passed.update(self.extra_headers)
        _reply(handler, answer.status_code, passed, answer.content)

    def stop(self) -> None:
        super().stop()
        self._upstream.close()
