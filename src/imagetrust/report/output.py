"""Writing a report: stdout, or a file written atomically so a kill never leaves half a report."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from imagetrust.errors import UsageError


def write_output(text: str, path: Path | None) -> None:
    """Print ``text``, or write it to ``path`` via a temp file and ``os.replace``."""
    if path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
