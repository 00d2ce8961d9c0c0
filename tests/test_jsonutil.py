"""jsonutil.loads: every way JSON can be bad becomes the caller's one-line ImagetrustError."""

from __future__ import annotations

import json

import pytest

from imagetrust import jsonutil
from imagetrust.errors import CatalogError, ImagetrustError, ManifestError
from imagetrust.jsonutil import dumps, valid_unicode


def test_parses_bytes_and_text() -> None:
    assert jsonutil.loads(b'{"a": [1, 2.5, null]}', what="x") == {"a": [1, 2.5, None]}
    assert jsonutil.loads('"caf\u00e9"', what="x") == "café"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": ' * 100_000, "nested too deeply"),
        (b'{"a": 1,}', "Expecting property name enclosed in double quotes at line 1 column 9"),
        (b'{"a": "\xff"}', "not UTF-8 text"),
        (b"", "Expecting value at line 1 column 1"),
        (b"1" * 5000, "Exceeds the limit (4300 digits)"),
    ],
)
def test_bad_input_is_a_one_line_error_of_the_given_type(data: bytes, reason: str) -> None:
    with pytest.raises(CatalogError) as caught:
        jsonutil.loads(data, what="package.json", error=CatalogError)
    message = str(caught.value)
    assert message.startswith("package.json is not valid JSON: ")
    assert reason in message
    assert "\n" not in message and len(message) < 200


def test_default_error_is_manifest_error() -> None:
    with pytest.raises(ManifestError, match="^the manifest is not valid JSON"):
        jsonutil.loads("{", what="the manifest")
    assert issubclass(ManifestError, ImagetrustError)


def test_nested_package_json_is_a_catalog_skip_not_a_crash() -> None:
    from imagetrust.catalog.node import NodeCataloger
    from imagetrust.image.files import FileEntry, FileTree

    bomb = b"[" * 100_000 + b"]" * 100_000
    good = b'{"name": "left-pad", "version": "1.3.0"}'
    entries = {
        path: FileEntry(path, "file", len(data), 0o644, 0, "sha256:" + "0" * 64, data=data)
        for path, data in (
            ("app/node_modules/bomb/package.json", bomb),
            ("app/node_modules/left-pad/package.json", good),
        )
    }
    packages, skips = NodeCataloger().catalog(FileTree(entries), None)
    assert [(p.name, p.version) for p in packages] == [("left-pad", "1.3.0")]
    assert [(s.path, s.reason) for s in skips] == [
        ("app/node_modules/bomb/package.json", "package.json is not valid JSON: nested too deeply")
    ]


@pytest.mark.parametrize("indent", [2, 0, 4, None])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_dumps_writes_what_json_dumps_writes(indent: int | None, ensure_ascii: bool) -> None:
    """The indented writer is a shortcut: its text is json.dumps's, byte for byte."""
    values: list[object] = [
        {}, [], (), {"a": [], "b": {}, "c": ()}, [1, -2, 2.5, -0.0, 1e300, None, True, False],
        {"k\udce9": "v\udc80\ud800", "é": "ü", "\u2028": "\"\\\n\t\x00"},
        (1, (2, [3, {"x": (4,)}])), [[[[[[[[[[["deep"]]]]]]]]]]],
        [float("nan"), float("inf"), -float("inf")], "plain", 7, None,
        {1: "int key", "s": {None: 1, 2.5: 2, True: 3}},
    ]
    for value in values:
        expected = json.dumps(valid_unicode(value), indent=indent, ensure_ascii=ensure_ascii)
        assert dumps(value, indent=indent, ensure_ascii=ensure_ascii) == expected
