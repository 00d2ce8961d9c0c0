"""A misbehaving Docker daemon (a scripted Engine API on 127.0.0.1) and a failing export cache.

No podman needed: the daemon here answers only what each test scripts, including answers no
honest daemon sends (empty messages, bottomless bodies, exports of some other image).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path
from typing import BinaryIO

import pytest

from imagetrust.errors import IntegrityError, SourceError
from imagetrust.image.model import Descriptor
from imagetrust.oci import mediatypes as mt
from imagetrust.source.daemon import DaemonClient, DaemonSource
from imagetrust.source.daemon import client as client_module
from imagetrust.source.daemon.discovery import parse_docker_host
from imagetrust.source.daemon.exports import ExportCache
from imagetrust.source.daemon.model import LocalImageInfo
from tests.source.hostile_http import HostileServer, endless_body, reply, serve


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _client(server: HostileServer, timeout: float = 20.0) -> DaemonClient:
    return DaemonClient(parse_docker_host(f"tcp://127.0.0.1:{server.port}"), timeout=timeout)


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# -- A13: error answers --------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["", "\n\n", "  "])
def test_blank_error_message_is_a_one_line_source_error(message: str) -> None:
    body = json.dumps({"message": message}).encode()
    with (
        serve({"/images/app:1/json": lambda h: reply(h, 500, body)}) as daemon,
        _client(daemon) as client,
        pytest.raises(SourceError) as caught,
    ):
        client.inspect("app:1")
    text = str(caught.value)
    assert text.startswith(f"the Docker daemon at tcp://127.0.0.1:{daemon.port} failed to inspect")
    assert "(HTTP 500);" in text and "\n" not in text


def test_error_message_keeps_only_its_first_line() -> None:
    body = json.dumps({"message": "\nno such image: app:1\nstack trace follows"}).encode()
    with (
        serve({"/images/app:1/json": lambda h: reply(h, 500, body)}) as daemon,
        _client(daemon) as client,
        pytest.raises(SourceError) as caught,
    ):
        client.inspect("app:1")
    assert "(HTTP 500): no such image: app:1;" in str(caught.value)
    assert "stack trace" not in str(caught.value)


# -- A10: answers are read with a cap, never whole ---------------------------------------------


def test_oversized_answer_is_cut_off_without_waiting_for_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "_MAX_JSON", 1024 * 1024)
    with serve({"/images/json": endless_body(stall_after=2 * 1024 * 1024)}) as daemon:
        started = time.monotonic()
        with _client(daemon) as client, pytest.raises(SourceError, match="more than 1048576"):
            client.list_images()
        assert time.monotonic() - started < 10  # the stalled remainder was never awaited


def test_oversized_error_body_is_truncated_not_awaited() -> None:
    route = endless_body(status=500, stall_after=2 * 1024 * 1024)
    with serve({"/images/app:1/json": route}) as daemon:
        started = time.monotonic()
        with _client(daemon) as client, pytest.raises(SourceError, match="failed to inspect"):
            client.inspect("app:1")
        assert time.monotonic() - started < 10


def test_deeply_nested_answer_is_a_source_error() -> None:
    bomb = b"[" * 200_000 + b"]" * 200_000
    with (
        serve({"/images/json": lambda h: reply(h, 200, bomb)}) as daemon,
        _client(daemon) as client,
        pytest.raises(SourceError, match="nested too deeply"),
    ):
        client.list_images()


# -- A13: a full disk while exporting ----------------------------------------------------------


def test_disk_full_during_export_is_a_source_error(tmp_path: Path) -> None:
    cache = ExportCache(tmp_path / "exports")

    def fill_disk(handle: BinaryIO) -> int:
        handle.write(b"x" * 4096)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(SourceError) as caught:
        cache.put("sha256:" + "e" * 64, fill_disk)
    assert str(caught.value).count("\n") == 0
    assert os.strerror(errno.ENOSPC) in str(caught.value)
    assert list((tmp_path / "exports").iterdir()) == []  # no temp file, no export


def test_fsync_failure_is_a_source_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ExportCache(tmp_path / "exports")

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(SourceError, match=os.strerror(errno.EIO)):
        cache.put("sha256:" + "f" * 64, lambda handle: handle.write(b"data"))
    assert list((tmp_path / "exports").iterdir()) == []


# -- A13: the export must be the image the daemon named ------------------------------------


def _oci_export(index_lists_manifest: bool) -> tuple[bytes, str]:
    """A Docker >= 25 style export plus a containerd-store image ID (an index digest).

    The index blob named by the ID lists the exported manifest only when asked to; otherwise it
    lists some other manifest, as a tampered or confused export would.
    """
    layer = _tar({"etc/hostname": b"box\n"})
    config = json.dumps(
        {"architecture": "amd64", "os": "linux",
         "rootfs": {"type": "layers", "diff_ids": [_sha256(layer)]}}
    ).encode()
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
         "config": {"mediaType": mt.OCI_CONFIG, "digest": _sha256(config), "size": len(config)},
         "layers": [{"mediaType": mt.OCI_LAYER, "digest": _sha256(layer), "size": len(layer)}]}
    ).encode()
    listed = _sha256(manifest) if index_lists_manifest else "sha256:" + "0" * 64
    index = json.dumps(
        {"schemaVersion": 2, "mediaType": mt.OCI_INDEX,
         "manifests": [{"mediaType": mt.OCI_MANIFEST, "digest": listed, "size": len(manifest)}]}
    ).encode()
    blobs = {f"blobs/sha256/{_sha256(b)[7:]}": b for b in (layer, config, manifest, index)}
    top = json.dumps(
        {"schemaVersion": 2,
         "manifests": [{"mediaType": mt.OCI_MANIFEST, "digest": _sha256(manifest),
                        "size": len(manifest)}]}
    ).encode()
    docker = json.dumps(
        [{"Config": f"blobs/sha256/{_sha256(config)[7:]}", "RepoTags": ["app:1"],
          "Layers": [f"blobs/sha256/{_sha256(layer)[7:]}"]}]
    ).encode()
    members = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": top,
               "manifest.json": docker, **blobs}
    return _tar(members), _sha256(index)


@pytest.mark.parametrize("listed", [True, False])
def test_index_image_id_must_list_the_exported_manifest(tmp_path: Path, listed: bool) -> None:
    export, image_id = _oci_export(index_lists_manifest=listed)
    route = f"/images/{image_id}/get"
    with serve({route: lambda h: reply(h, 200, export)}) as daemon, _client(daemon) as client:
        info = LocalImageInfo(image_id=image_id, repo_tags=("app:1",))
        if listed:
            with DaemonSource("app:1", client, tmp_path, info=info) as source:
                assert source.exported and source.root().media_type == mt.OCI_MANIFEST
        else:
            with pytest.raises(IntegrityError, match="exported a different image"):
                DaemonSource("app:1", client, tmp_path, info=info)
            assert list(tmp_path.glob("*.tar")) == []


# -- A13: an export that fails verification later is not kept ---------------------------------


def _classic_export_with_corrupt_layer() -> tuple[bytes, str, str]:
    """A classic ``docker save`` whose layer no longer matches the diff_id in its config."""
    layer = _tar({"etc/hostname": b"box\n"})
    config = json.dumps(
        {"architecture": "amd64", "os": "linux",
         "rootfs": {"type": "layers", "diff_ids": [_sha256(layer)]}}
    ).encode()
    damaged = layer.replace(b"box\n", b"bad\n")
    assert len(damaged) == len(layer) and damaged != layer
    config_name = f"{_sha256(config)[7:]}.json"
    docker = json.dumps(
        [{"Config": config_name, "RepoTags": ["app:1"], "Layers": ["abc/layer.tar"]}]
    ).encode()
    export = _tar({"manifest.json": docker, config_name: config, "abc/layer.tar": damaged})
    return export, _sha256(config), _sha256(layer)


def test_export_failing_verification_is_discarded(tmp_path: Path) -> None:
    export, image_id, diff_id = _classic_export_with_corrupt_layer()
    route = f"/images/{image_id}/get"
    info = LocalImageInfo(image_id=image_id, repo_tags=("app:1",))
    with serve({route: lambda h: reply(h, 200, export)}) as daemon, _client(daemon) as client:
        for _ in range(2):  # the rescan must export afresh, not reuse the bad export
            with DaemonSource("app:1", client, tmp_path, info=info) as source:
                assert source.exported
                layer = json.loads(source.root().data)["layers"][0]
                assert layer["digest"] == diff_id  # an uncompressed layer is named by its diff_id
                descriptor = Descriptor(layer["mediaType"], layer["digest"], layer["size"])
                with (
                    pytest.raises(IntegrityError, match="does not match its digest"),
                    source.open_blob(descriptor) as stream,
                ):
                    stream.read()
                assert not source.export_path.exists()
        assert daemon.paths == [route, route]
