"""One measured unit for bench_open: open an image and read its merged dpkg status.

Run as ``python -m bench.read_status TARGET [--mirror docker.io=URL]``; prints the status size so
a silently empty read would show.
"""

from __future__ import annotations

import argparse

from imagetrust.api import open_image
from imagetrust.config import load_settings
from imagetrust.image.files import FileRequest
from imagetrust.image.reader import read_files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("--mirror", action="append", default=[])
    args = parser.parse_args()
    settings = load_settings(registry_mirrors=args.mirror)
    request = FileRequest(("var/lib/dpkg/status",))
    with open_image(args.target, settings=settings) as opened:
        tree = read_files(opened.source, opened.image, [request])
    data = tree.read("var/lib/dpkg/status")
    if not data:
        raise SystemExit("var/lib/dpkg/status not found")
    print(len(data))


if __name__ == "__main__":
    main()
