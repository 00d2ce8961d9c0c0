"""Writing a report: stdout, or ``-o PATH`` by what PATH is, always as valid UTF-8.

``-o`` never replaces something that is not a regular file (as root, replacing ``/dev/null``
with a file would break the machine):

* absent, or a regular file: written to a temp file and ``os.replace``-d, so a kill never leaves
  half a report;
* a symlink: followed, and judged by its target's type; a regular target is replaced atomically
  *at the target* (the link stays a link), a dangling link is refused;
* a character device (``/dev/null``, a terminal) or a FIFO (``/dev/stdout`` on a pipe, a named
  pipe): written through, opened for writing without creating or replacing anything; a FIFO
  waits for its reader, as a shell redirection does;
* a directory, a socket or a block device: one clear error, nothing written.

Every text goes through :func:`imagetrust.jsonutil.valid_text`, so bytes an image's names held
that are not UTF-8 come out as ``\\xNN`` instead of a ``UnicodeEncodeError``.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TextIO

from imagetrust.atomic import write_atomic
from imagetrust.errors import UsageError
from imagetrust.jsonutil import valid_text


def write_output(text: str, path: Path | None) -> None:
    """Print ``text``, or write it to ``path`` as its file type allows (see the module)."""
    body = valid_text(text if text.endswith("\n") else text + "\n")
    if path is None:
        sys.stdout.write(body)
        sys.stdout.flush()
        return
    data = body.encode("utf-8")
    try:
        mode = os.stat(path).st_mode  # follows symlinks: the target's type decides
    except FileNotFoundError:
        if os.path.lexists(path):
            raise UsageError(f"cannot write {path}: it is a symlink to nothing",
                             hint="remove the link or choose another -o path") from None
        _replace(path, data)
        return
    except OSError as error:
        raise _cannot(path, error) from None
    if stat.S_ISREG(mode):
        _replace(Path(os.path.realpath(path)), data)
    elif stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        _write_through(path, data)
    else:
        kind = ("a directory" if stat.S_ISDIR(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a block device" if stat.S_ISBLK(mode) else "not a regular file")
        raise UsageError(
            f"cannot write {path}: it is {kind}",
            hint="-o writes a regular file, a character device or a FIFO; give a file name",
        )


def _replace(path: Path, data: bytes) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: directory {directory} does not exist")
    try:
        write_atomic(path, data)
    except OSError as error:
        raise _cannot(path, error) from None


def _write_through(path: Path, data: bytes) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        raise _cannot(path, error) from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view):]
    except OSError as error:
        raise _cannot(path, error) from None
    finally:
        os.close(descriptor)


def _cannot(path: Path, error: OSError) -> UsageError:
    return UsageError(f"cannot write {path}: {error.strerror or error}",
                      hint="choose a writable -o path")


class ValidTextStream:
    """A text stream that writes :func:`valid_text` of everything to another one: what console
    formats draw on, so a table on a terminal never raises ``UnicodeEncodeError`` either."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(valid_text(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8") or "utf-8"
