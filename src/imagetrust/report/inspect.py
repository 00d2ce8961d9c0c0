"""``imagetrust inspect`` output: the image model as JSON or a table for people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from imagetrust.image.model import Image
from imagetrust.jsonutil import dumps
from imagetrust.report.document import InspectDocument
from imagetrust.source.daemon.model import LocalImageInfo


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def local_json(local: LocalImageInfo | None) -> dict[str, Any] | None:
    """What the local image cache holds for the image (None when not read from a daemon)."""
    if local is None:
        return None
    return {
        "image_id": local.image_id,
        "repo_tags": list(local.repo_tags),
        "repo_digests": list(local.repo_digests),
        "created": _iso(local.created),
    }


def inspect_json(
    image: Image, origin: str = "registry", local: LocalImageInfo | None = None
) -> dict[str, Any]:
    """The documented JSON shape of ``imagetrust inspect --format json``."""
    return {
        "reference": image.reference,
        "source": image.source_kind,
        "origin": origin,
        "local": local_json(local),
        "digest": image.digest,
        "index_digest": image.index_digest,
        "media_type": image.media_type,
        "platform": image.platform.to_json(),
        "platforms": [p.to_json() for p in image.platforms],
        "config_digest": image.config.digest,
        "created": _iso(image.config.created),
        "user": image.config.user or "",
        "labels": dict(image.config.labels),
        "annotations": dict(image.annotations),
        "repo_tags": list(image.repo_tags),
        "repo_digests": list(image.repo_digests),
        "layers": [
            {
                "digest": layer.digest,
                "diff_id": layer.diff_id,
                "size": layer.size,
                "media_type": layer.media_type,
            }
            for layer in image.layers
        ],
        "history": [
            {
                "created": _iso(entry.created),
                "created_by": entry.created_by,
                "comment": entry.comment,
                "empty_layer": entry.empty_layer,
            }
            for entry in image.config.history
        ],
        "attestations": [a.digest for a in image.attestations],
    }


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def inspect_text(document: InspectDocument) -> str:
    """``inspect --format json``: :func:`inspect_json` with its schema version."""
    body = inspect_json(document.image, document.origin, document.local)
    return dumps({"schema_version": document.SCHEMA_VERSION, **body})


def render_inspect(document: InspectDocument, console: Console) -> None:
    """A short human summary followed by the layer table."""
    image, origin, local = document.image, document.origin, document.local
    rows = [
        ("Reference", image.reference),
        ("Source", f"{image.source_kind} ({origin})"),
        ("Digest", image.digest or "-"),
        ("Index digest", image.index_digest or "-"),
        ("Media type", image.media_type),
        ("Platform", str(image.platform)),
        ("Platforms", ", ".join(str(p) for p in image.platforms) or "-"),
        ("Config", image.config.digest),
        ("Created", _iso(image.config.created) or "-"),
        ("User", image.config.user or "(root)"),
    ]
    if image.repo_tags:
        rows.append(("Tags", ", ".join(image.repo_tags)))
    if local is not None:
        rows.append(("Local image ID", local.image_id))
        rows.append(("Local created", _iso(local.created) or "-"))
        rows.append(("RepoDigests", ", ".join(local.repo_digests) or "-"))
    for key, value in sorted(image.annotations.items()):
        rows.append((f"Annotation {key}", value))
    for key, value in sorted(image.config.labels.items()):
        rows.append((f"Label {key}", value))
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column(overflow="fold")
    for key, value in rows:
        summary.add_row(key, value)
    console.print(summary)

    layers = Table(title=f"{len(image.layers)} layers", title_justify="left")
    layers.add_column("#", justify="right")
    layers.add_column("digest", overflow="fold")
    layers.add_column("diff_id", overflow="fold")
    layers.add_column("size", justify="right")
    for layer in image.layers:
        layers.add_row(str(layer.index), layer.digest, layer.diff_id, _size(layer.size))
    console.print(layers)
