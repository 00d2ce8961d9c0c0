"""``-o PATH`` by what PATH is: regular files replaced atomically, character devices and FIFOs
written through (``/dev/null`` stays a character device), directories, sockets and dangling
links refused with one line; every text written as valid UTF-8."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from imagetrust.errors import UsageError
from imagetrust.report.output import write_output


def test_regular_file_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("old and longer\n")
    inode = path.stat().st_ino
    write_output("new", path)
    assert path.read_text() == "new\n" and path.stat().st_ino != inode
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_symlink_to_a_file_replaces_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_output("new", link)
    assert link.is_symlink() and target.read_text() == "new\n"


def test_dangling_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "absent")
    with pytest.raises(UsageError, match="symlink to nothing"):
        write_output("x", link)
    assert not (tmp_path / "absent").exists()


def test_dev_null_stays_a_character_device() -> None:
    write_output("discarded", Path("/dev/null"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_symlink_to_dev_null_is_written_through(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    write_output("discarded", link)
    assert link.is_symlink()


def test_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_output("through the pipe", fifo)
    reader.join(timeout=10)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="it is a directory") as info:
        write_output("x", tmp_path)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(UsageError, match="it is a socket"):
            write_output("x", path)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
    finally:
        server.close()


def test_proc_destination_is_one_clear_error() -> None:
    with pytest.raises(UsageError, match="cannot write /proc/") as info:
        write_output("x", Path("/proc/self/imagetrust-report"))
    assert "\n" not in str(info.value)


def test_undecodable_bytes_are_written_as_text(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    write_output(b"caf\xe9".decode("utf-8", "surrogateescape"), path)
    assert path.read_bytes().decode("utf-8") == "caf\\xe9\n"
