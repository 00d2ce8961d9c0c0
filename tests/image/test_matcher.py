"""The reader's path matcher (one anchored union, base-name prefilter, ``**`` union) selects
exactly the paths that the requests' own ``FileRequest.matches`` accepts, glob by glob."""

from __future__ import annotations

import itertools

from imagetrust.image.files import FileRequest
from imagetrust.image.reader import _Matcher

PATTERNS = (
    "etc/os-release", "var/lib/dpkg/status", "var/lib/dpkg/status.d/*", "usr/share/doc/*/copyright",
    "**/*.dist-info/METADATA", "**/node_modules/@*/*/package.json", "**/*.jar", "opt/**/bin/?ool",
    "lib/[ab]pk/db/installed",
)
PATHS = (
    "etc/os-release", "etc/os-release.d", "xetc/os-release", "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/foo", "var/lib/dpkg/status.d/foo/bar", "usr/share/doc/jq/copyright",
    "usr/share/doc/jq/x/copyright", "METADATA", "a.dist-info/METADATA",
    "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "x/METADATA",
    "node_modules/@scope/pkg/package.json", "a/node_modules/@s/p/package.json",
    "a/node_modules/p/package.json", "app.jar", "deep/er/lib.jar", "lib.jar/inner", "opt/bin/tool",
    "opt/a/b/bin/pool", "opt/a/bin/tools", "lib/apk/db/installed", "lib/cpk/db/installed", "",
)


def test_matcher_agrees_with_each_request_on_every_path() -> None:
    for size in (1, 2, len(PATTERNS)):
        for chosen in itertools.combinations(PATTERNS, size):
            requests = [FileRequest((p,)) for p in chosen]
            matcher = _Matcher(requests)
            for path in PATHS:
                expected = any(r.matches(path) for r in requests)
                assert (matcher.plan(path, 10, 0o644) is not None) == expected, (chosen, path)


def test_a_catch_all_glob_disables_the_prefilter_but_still_matches() -> None:
    matcher = _Matcher([FileRequest(("**",)), FileRequest(("etc/*",))])
    assert all(matcher.plan(p, 1, 0o644) is not None for p in PATHS if p)
