"""Writing a report: stdout, or a file written atomically so a kill never leaves half a report."""

from __future__ import annotations

import sys
from pathlib import Path

from imagetrust.atomic import write_atomic
from imagetrust.errors import UsageError


def write_output(text: str, path: Path | None) -> None:
    """Print ``text``, or write it to ``path`` via a temp file and ``os.replace``."""
    if path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: directory {directory} does not exist")
    try:
        write_atomic(path, (text if text.endswith("\n") else text + "\n").encode("utf-8"))
    except OSError as error:
        raise UsageError(
            f"cannot write {path}: {error.strerror or error}", hint="choose a writable -o path"
        ) from None
