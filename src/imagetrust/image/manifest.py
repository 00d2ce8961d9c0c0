"""Parse index, manifest and config JSON into the typed model ("parse, don't validate").

Every shape is checked where it is read, and a wrong one raises ManifestError naming the field, so
later stages never meet a half-valid manifest. Docker schema 1 is refused as unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from imagetrust import jsonutil
from imagetrust.errors import ManifestError
from imagetrust.image.model import (
    Descriptor,
    HistoryEntry,
    ImageConfig,
    Platform,
    RawManifest,
)
from imagetrust.oci import mediatypes as mt

_DIGEST_RE = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")
_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Index:
    """An OCI image index or Docker manifest list."""

    media_type: str
    digest: str
    manifests: tuple[Descriptor, ...]
    annotations: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Manifest:
    """One image manifest: a config and its layers."""

    media_type: str
    digest: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: Mapping[str, str]
    subject: Descriptor | None = None


def load_json_object(data: bytes, what: str) -> dict[str, Any]:
    """Decode a JSON object, or raise ManifestError saying what was malformed."""
    value = jsonutil.loads(data, what=what)  # ManifestError, also for absurd nesting
    if not isinstance(value, dict):
        raise ManifestError(f"{what} is not a JSON object")
    return value


def _str(obj: Mapping[str, Any], key: str, what: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise ManifestError(f"{what} has no {key!r}")
        return None
    if not isinstance(value, str):
        raise ManifestError(f"{what}: {key!r} must be a string")
    return value


def _str_map(value: Any, what: str) -> Mapping[str, str]:
    if value is None:
        return _EMPTY
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ManifestError(f"{what} must map strings to strings")
    return MappingProxyType(dict(value))


def _str_tuple(value: Any, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{what} must be a list of strings")
    return tuple(value)


def parse_digest(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _DIGEST_RE.match(value):
        raise ManifestError(f"{what} is not a valid digest: {value!r}")
    return value


def parse_platform(value: Any, what: str) -> Platform | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ManifestError(f"{what} must be an object")
    os_name = _str(value, "os", what)
    arch = _str(value, "architecture", what)
    assert os_name is not None and arch is not None
    return Platform(os_name, arch, _str(value, "variant", what, required=False) or None)


def parse_descriptor(value: Any, what: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ManifestError(f"{what} must be an object")
    media_type = _str(value, "mediaType", what)
    assert media_type is not None
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"{what}: 'size' must be a non-negative integer")
    return Descriptor(
        media_type=media_type,
        digest=parse_digest(value.get("digest"), f"{what}.digest"),
        size=size,
        platform=parse_platform(value.get("platform"), f"{what}.platform"),
        annotations=_str_map(value.get("annotations"), f"{what}.annotations"),
        artifact_type=_str(value, "artifactType", what, required=False),
    )


def _kind(raw: RawManifest, obj: Mapping[str, Any]) -> str:
    """The media type, from the document or the transport, refusing schema 1."""
    declared = obj.get("mediaType")
    if obj.get("schemaVersion") == 1 or raw.media_type in mt.SCHEMA1_TYPES or (
        declared in mt.SCHEMA1_TYPES
    ):
        raise ManifestError(
            f"manifest {raw.digest} is Docker schema 1, which is unsupported",
            hint="push the image again with a current client (schema 2 or OCI)",
        )
    if obj.get("schemaVersion") != 2:
        raise ManifestError(f"manifest {raw.digest}: 'schemaVersion' must be 2")
    if isinstance(declared, str) and declared:
        if raw.media_type and raw.media_type != declared and raw.media_type not in (
            "application/json", "application/octet-stream"
        ):
            raise ManifestError(
                f"manifest {raw.digest} says it is {declared} but was served as {raw.media_type}"
            )
        return declared
    if raw.media_type in mt.INDEX_TYPES | mt.MANIFEST_TYPES:
        return raw.media_type
    # OCI allows mediaType to be absent: infer from the shape.
    if "manifests" in obj:
        return mt.OCI_INDEX
    if "config" in obj:
        return mt.OCI_MANIFEST
    raise ManifestError(f"manifest {raw.digest} is neither an image index nor a manifest")


def parse_manifest(raw: RawManifest) -> Index | Manifest:
    """Parse a verified index or manifest; anything else is a ManifestError."""
    what = f"manifest {raw.digest}"
    obj = load_json_object(raw.data, what)
    kind = _kind(raw, obj)
    annotations = _str_map(obj.get("annotations"), f"{what}: annotations")
    if kind in mt.INDEX_TYPES:
        items = obj.get("manifests")
        if not isinstance(items, list):
            raise ManifestError(f"{what}: 'manifests' must be a list")
        return Index(
            media_type=kind,
            digest=raw.digest,
            manifests=tuple(
                parse_descriptor(item, f"{what}: manifests[{i}]") for i, item in enumerate(items)
            ),
            annotations=annotations,
        )
    if kind in mt.MANIFEST_TYPES:
        layers = obj.get("layers")
        if not isinstance(layers, list):
            raise ManifestError(f"{what}: 'layers' must be a list")
        subject = obj.get("subject")
        return Manifest(
            media_type=kind,
            digest=raw.digest,
            config=parse_descriptor(obj.get("config"), f"{what}: config"),
            layers=tuple(
                parse_descriptor(item, f"{what}: layers[{i}]") for i, item in enumerate(layers)
            ),
            annotations=annotations,
            subject=None if subject is None else parse_descriptor(subject, f"{what}: subject"),
        )
    raise ManifestError(f"{what} has unsupported media type {kind!r}")


def parse_time(value: Any, what: str) -> datetime | None:
    """RFC 3339 timestamps as written by Docker/BuildKit (nanoseconds, ``Z``) → aware datetime."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ManifestError(f"{what} must be a timestamp string")
    text = value.strip()
    match = re.match(r"^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", text)
    if not match:
        raise ManifestError(f"{what} is not an RFC 3339 timestamp: {value!r}")
    base, fraction, zone = match.groups()
    fraction = (fraction or "")[:7]  # Python keeps microseconds; Go writes nanoseconds
    zone = "+00:00" if zone in ("Z", "z", "") else zone
    try:
        parsed = datetime.fromisoformat(f"{base}{fraction}{zone}")
    except ValueError:
        raise ManifestError(f"{what} is not an RFC 3339 timestamp: {value!r}") from None
    if parsed.year < 1971:  # reproducible builds write the epoch: it says "unknown"
        return None
    return parsed


def parse_config(data: bytes, digest: str) -> ImageConfig:
    """Parse a (verified) image config blob."""
    what = f"image config {digest}"
    obj = load_json_object(data, what)
    os_name = _str(obj, "os", what)
    arch = _str(obj, "architecture", what)
    assert os_name is not None and arch is not None
    container = obj.get("config") or {}
    if not isinstance(container, dict):
        raise ManifestError(f"{what}: 'config' must be an object")
    rootfs = obj.get("rootfs")
    if not isinstance(rootfs, dict):
        raise ManifestError(f"{what} has no 'rootfs'")
    if rootfs.get("type") != "layers":
        raise ManifestError(f"{what}: rootfs.type must be 'layers'")
    raw_ids = rootfs.get("diff_ids")
    if not isinstance(raw_ids, list):
        raise ManifestError(f"{what}: rootfs.diff_ids must be a list")
    diff_ids = tuple(
        parse_digest(item, f"{what}: rootfs.diff_ids[{i}]") for i, item in enumerate(raw_ids)
    )
    history_raw = obj.get("history") or []
    if not isinstance(history_raw, list):
        raise ManifestError(f"{what}: 'history' must be a list")
    history = []
    for i, item in enumerate(history_raw):
        where = f"{what}: history[{i}]"
        if not isinstance(item, dict):
            raise ManifestError(f"{where} must be an object")
        history.append(
            HistoryEntry(
                created=parse_time(item.get("created"), f"{where}.created"),
                created_by=_str(item, "created_by", where, required=False),
                comment=_str(item, "comment", where, required=False),
                empty_layer=bool(item.get("empty_layer", False)),
            )
        )
    return ImageConfig(
        digest=digest,
        os=os_name,
        architecture=arch,
        variant=_str(obj, "variant", what, required=False) or None,
        created=parse_time(obj.get("created"), f"{what}: created"),
        user=_str(container, "User", f"{what}: config", required=False) or None,
        env=_str_tuple(container.get("Env"), f"{what}: config.Env") or (),
        entrypoint=_str_tuple(container.get("Entrypoint"), f"{what}: config.Entrypoint"),
        cmd=_str_tuple(container.get("Cmd"), f"{what}: config.Cmd"),
        labels=_str_map(container.get("Labels"), f"{what}: config.Labels"),
        diff_ids=diff_ids,
        history=tuple(history),
        raw=MappingProxyType(obj),
    )
