"""Build a FileTree from real directories on this machine, as the layer reader would.

Each mount maps an image path prefix to a real directory; mounts later in the list act as later
layers. Only files the cataloger's FileRequest asks for are included, exactly like the reader.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from imagetrust.image.files import FileEntry, FileKind, FileRequest, FileTree


def diff_id_for(layer_index: int) -> str:
    return "sha256:" + hashlib.sha256(f"layer-{layer_index}".encode()).hexdigest()


def tree_from_dirs(request: FileRequest, mounts: Sequence[tuple[str, Path]]) -> FileTree:
    """Walk each ``(image_prefix, real_dir)`` (layer = its index) and keep requested entries."""
    files: dict[str, FileEntry] = {}
    for layer_index, (prefix, root) in enumerate(mounts):
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                real = Path(dirpath) / name
                rel = real.relative_to(root).as_posix()
                path = f"{prefix.strip('/')}/{rel}" if prefix.strip("/") else rel
                entry = _entry(request, real, path, layer_index)
                if entry is not None:
                    files[path] = entry
    return FileTree(files=files)


def _entry(request: FileRequest, real: Path, path: str, layer_index: int) -> FileEntry | None:
    st = real.lstat()
    kind: FileKind
    link = None
    if stat.S_ISLNK(st.st_mode):
        kind, link = "symlink", os.readlink(real)
    elif stat.S_ISDIR(st.st_mode):
        kind = "dir"
    elif stat.S_ISREG(st.st_mode):
        kind = "file"
    else:
        kind = "other"
    mode = stat.S_IMODE(st.st_mode)
    size = st.st_size if kind == "file" else 0
    if not request.matches(path, size, mode if kind == "file" else 0):
        return None
    data = None
    truncated = False
    if kind == "file":
        if size > request.max_size:
            truncated = True
        else:
            data = real.read_bytes()
    return FileEntry(
        path=path,
        kind=kind,
        size=size,
        mode=mode,
        layer_index=layer_index,
        diff_id=diff_id_for(layer_index),
        link_target=link,
        data=data,
        truncated=truncated,
    )


def file_entry(path: str, data: bytes, *, layer_index: int = 0, mode: int = 0o644) -> FileEntry:
    """One regular file entry, for feeding real bytes under a chosen image path."""
    return FileEntry(
        path=path,
        kind="file",
        size=len(data),
        mode=mode,
        layer_index=layer_index,
        diff_id=diff_id_for(layer_index),
        data=data,
    )
