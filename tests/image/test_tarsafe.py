"""Member-name and link safety rules, checked against hand-worked cases."""

from __future__ import annotations

import pytest

from imagetrust.image.tarsafe import is_hidden, normalize_member, symlink_target, whiteout


@pytest.mark.parametrize(
    ("name", "path"),
    [("./etc/passwd", "etc/passwd"), ("etc//x/./y", "etc/x/y"), ("a/b/../c", "a/c"),
     ("./", ""), ("/", ""), (".", "")],
)
def test_safe_names_normalise(name: str, path: str) -> None:
    assert normalize_member(name) == (path, None)


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", "./../x", "x\x00y"])
def test_hostile_names_are_refused(name: str) -> None:
    path, reason = normalize_member(name)
    assert path is None and reason


def test_symlink_targets() -> None:
    assert symlink_target("etc/os-release", "../usr/lib/os-release") == "usr/lib/os-release"
    assert symlink_target("bin", "usr/bin") == "usr/bin"
    assert symlink_target("etc/x", "/etc/../../../../shadow") == "shadow"  # root-relative
    assert symlink_target("etc/x", "../../shadow") is None
    assert symlink_target("etc/x", "") is None


def test_whiteouts() -> None:
    assert whiteout("etc/.wh.passwd") == ("whiteout", "etc/passwd")
    assert whiteout(".wh.opt") == ("whiteout", "opt")
    assert whiteout("usr/share/.wh..wh..opq") == ("opaque", "usr/share")
    assert whiteout("usr/.wh..wh.plnk") == ("meta", "usr/.wh..wh.plnk")
    assert whiteout("usr/x.wh.y") is None
    assert is_hidden("etc/a/b", {"etc/a"}, set())
    assert is_hidden("usr/share/doc/x", set(), {"usr/share"})
    assert not is_hidden("usr/share", set(), {"usr/share"})  # the opaque dir itself stays
    assert not is_hidden("etc/ab", {"etc/a"}, set())
