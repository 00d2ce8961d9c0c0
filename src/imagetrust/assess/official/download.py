"""Download the official-images tarball, conditionally, and install its ``library/``.

The request goes through :mod:`imagetrust.http`: TLS on, plain HTTP only to loopback or insecure
hosts (on every redirect hop: GitHub answers with a redirect to its archive host), the tarball read
with a cap and stored in a temporary file fsynced before it is parsed, and an ETag/Last-Modified
request so an unchanged catalog costs one request. Credentials in the URL are never stored or shown.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import httpx

from imagetrust.assess.official.archive import read_library_archive
from imagetrust.assess.official.generations import (
    LibraryUpdate,
    current_meta,
    install,
    store_dir,
    write_meta,
)
from imagetrust.assess.official.model import LibraryMeta
from imagetrust.errors import FeedError, NetworkError
from imagetrust.http.body import iter_capped
from imagetrust.http.client import HttpClient, split_credentials
from imagetrust.http.conditional import Validators, not_modified
from imagetrust.http.guard import check_plain_http, redact_text, redact_url

DEFAULT_ARCHIVE_URL = (
    "https://github.com/docker-library/official-images/archive/refs/heads/master.tar.gz"
)
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
MIN_KEPT_FRACTION = 0.5
"""An update with fewer than this share of the installed library files is refused (unless forced):
the library only grows slowly, so a sudden drop means a damaged or wrong archive."""


def update_library(
    cache_dir: Path,
    url: str = DEFAULT_ARCHIVE_URL,
    *,
    timeout: float = 60.0,
    verify: bool = True,
    force: bool = False,
    transport: httpx.BaseTransport | None = None,
    insecure: frozenset[str] = frozenset(),
) -> LibraryUpdate:
    """Download the official-images tarball (conditionally, by ETag); install its ``library/``.

    Plain HTTP is refused (also on redirects) unless the host is loopback or in ``insecure``.
    ``force`` skips the conditional request and accepts a library much smaller than the
    installed one. Credentials in ``url`` are never stored or shown.
    """
    check_plain_http(url, insecure)
    shown = redact_url(url)
    base = store_dir(cache_dir)
    base.mkdir(parents=True, exist_ok=True)
    previous = current_meta(cache_dir)
    known = Validators()
    if previous is not None and previous.source == shown and not force:
        known = Validators(previous.etag, previous.last_modified)

    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".tar.gz", dir=base)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as sink:
            got = _download(url, known, sink, timeout, verify, transport, insecure)
        if got is None and previous is not None:
            meta = replace(previous, checked_at=datetime.now(UTC))
            write_meta(cache_dir, meta)
            return LibraryUpdate(changed=False, meta=meta)
        archive = read_library_archive(tmp)
    finally:
        tmp.unlink(missing_ok=True)
    if not archive.files:
        raise FeedError(
            f"the archive from {shown} contains no library/ files",
            hint="point --url at a tarball of the docker-library/official-images repository",
        )
    if (
        previous is not None
        and not force
        and len(archive.files) < previous.files * MIN_KEPT_FRACTION
    ):
        raise FeedError(
            f"the archive from {shown} has only {len(archive.files)} library files, the installed "
            f"catalog {previous.files}; keeping the installed one",
            hint="the download is probably damaged: retry; to accept it anyway use "
            "`imagetrust catalog update --force`",
        )
    now = datetime.now(UTC)
    validators = got or Validators()
    meta = LibraryMeta(
        source=shown,
        fetched_at=now,
        checked_at=now,
        files=len(archive.files),
        commit=archive.commit,
        etag=validators.etag,
        last_modified=validators.last_modified,
    )
    invalid = install(base, archive.files, meta)
    return LibraryUpdate(
        changed=True, meta=meta, unsafe_members=archive.unsafe_members, invalid_files=invalid
    )


def _download(
    url: str,
    known: Validators,
    sink: BinaryIO,
    timeout: float,
    verify: bool,
    transport: httpx.BaseTransport | None,
    insecure: frozenset[str],
) -> Validators | None:
    """Write the archive to ``sink`` (fsynced) and return its validators; None on a 304."""
    shown = redact_url(url)
    clean, auth = split_credentials(url)
    try:
        with (
            HttpClient(
                timeout=timeout,
                insecure=insecure,
                verify=verify,
                transport=transport,
                user_agent="imagetrust",
            ) as client,
            client.stream("GET", clean, headers=known.headers(), auth=auth) as response,
        ):
            if not_modified(response):
                return None
            if response.status_code != 200:
                raise FeedError(
                    f"downloading the official-images catalog from {shown} failed: "
                    f"HTTP {response.status_code}",
                    hint="check the URL, or use `imagetrust catalog import DIR` with a checkout",
                )
            too_large = FeedError(
                f"the official-images archive from {shown} exceeds {MAX_ARCHIVE_BYTES} bytes",
                hint="check the catalog URL",
            )
            for chunk in iter_capped(response, MAX_ARCHIVE_BYTES, too_large=lambda: too_large):
                sink.write(chunk)
            sink.flush()
            os.fsync(sink.fileno())
            return Validators.of(response)
    except httpx.HTTPError as error:
        reason = " ".join(redact_text(str(error), url).split()) or type(error).__name__
        raise NetworkError(
            f"cannot download the official-images catalog from {shown}: {reason}",
            hint="check the network, or use `imagetrust catalog import DIR` offline",
        ) from None
