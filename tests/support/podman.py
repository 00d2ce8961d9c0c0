"""podman's Docker-Engine-API service on a private unix socket, for tests of the daemon source.

No Docker daemon runs on the test machines, but ``podman system service`` speaks the same API.
Everything podman touches lives below one temp dir (vfs storage, run root, tmp dirs, config
files pointed at through the environment), so nothing under /etc or the user's storage changes.
Only registries given to :func:`start_podman_service` are reachable (marked insecure: plain HTTP
on loopback); short names never search anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


@dataclass
class PodmanService:
    """A running ``podman system service``; ``socket`` is the unix socket it listens on."""

    root: Path
    socket: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] = field(repr=False)
    tcp_port: int | None = None
    """Set when the service listens on tcp://127.0.0.1:PORT instead of the socket."""

    @property
    def docker_host(self) -> str:
        if self.tcp_port is not None:
            return f"tcp://127.0.0.1:{self.tcp_port}"
        return f"unix://{self.socket}"

    def podman(self, *args: str, timeout: float = 300) -> str:
        """Run the podman CLI against the same storage; raise with its stderr on failure."""
        proc = subprocess.run(
            ["podman", *args], env=self.env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)} failed: {proc.stderr[-1500:]}")
        return proc.stdout

    def pull(self, reference: str) -> str:
        """Pull ``reference`` and return the image ID (config digest hex)."""
        self.podman("pull", "-q", reference)
        return self.image_id(reference)

    def tag(self, source: str, *targets: str) -> None:
        self.podman("tag", source, *targets)

    def image_id(self, name: str) -> str:
        return str(self.inspect(name)["Id"])

    def inspect(self, name: str) -> dict[str, Any]:
        value = json.loads(self.podman("image", "inspect", name))
        return dict(value[0])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _toml_strings(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def _write_configs(root: Path, registries: list[str]) -> dict[str, str]:
    storage, run, tmp = root / "storage", root / "run", root / "tmp"
    for directory in (storage, run, tmp):
        directory.mkdir(parents=True, exist_ok=True)
    storage_conf = root / "storage.conf"
    storage_conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = {json.dumps(str(storage))}\n'
        f"runroot = {json.dumps(str(run))}\n",
        encoding="utf-8",
    )
    registries_conf = root / "registries.conf"
    lines = ["unqualified-search-registries = []", ""]
    for host in registries:
        lines += ["[[registry]]", f"location = {json.dumps(host)}", "insecure = true", ""]
    registries_conf.write_text("\n".join(lines), encoding="utf-8")
    containers_conf = root / "containers.conf"
    containers_conf.write_text(
        '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
        f"events_logfile_path = {json.dumps(str(run / 'events.log'))}\n"
        f"tmp_dir = {json.dumps(str(tmp))}\n"
        f"image_copy_tmp_dir = {json.dumps(str(tmp))}\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    env.update(
        CONTAINERS_STORAGE_CONF=str(storage_conf),
        CONTAINERS_REGISTRIES_CONF=str(registries_conf),
        CONTAINERS_CONF=str(containers_conf),
        TMPDIR=str(tmp),
    )
    env.pop("DOCKER_HOST", None)
    return env


def start_podman_service(
    root: Path, registries: list[str], *, tcp_port: int | None = None, name: str = "podman"
) -> PodmanService:
    """Start podman's API service with private storage under ``root``; ready when it returns.

    ``registries`` are host:port entries podman may pull from over plain HTTP. With ``tcp_port``
    it listens on plain HTTP at 127.0.0.1 instead of a unix socket; a second service may share
    ``root`` under another ``name``.
    """
    if shutil.which("podman") is None:
        raise RuntimeError("podman is not installed (apt-get install podman uidmap)")
    root.mkdir(parents=True, exist_ok=True)
    env = _write_configs(root, registries)
    sock = root / f"{name}.sock"
    listen = f"tcp://127.0.0.1:{tcp_port}" if tcp_port is not None else f"unix://{sock}"
    log_path = root / f"{name}-service.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        ["podman", "system", "service", "--time=0", listen],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    service = PodmanService(root=root, socket=sock, env=env, process=process, tcp_port=tcp_port)
    deadline = time.monotonic() + 30
    if tcp_port is not None:
        transport, ping = httpx.HTTPTransport(), f"http://127.0.0.1:{tcp_port}/_ping"
    else:
        transport, ping = httpx.HTTPTransport(uds=str(sock)), "http://d/_ping"
    with httpx.Client(transport=transport, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                output = log_path.read_text(errors="replace")[-800:]
                raise RuntimeError(f"podman system service exited: {output}")
            if tcp_port is not None or sock.exists():
                try:
                    if client.get(ping).status_code == 200:
                        return service
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
    service.stop()
    raise RuntimeError("podman system service did not answer /_ping within 30 s")
