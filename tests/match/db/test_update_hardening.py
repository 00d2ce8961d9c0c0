"""Hostile or misconfigured feed servers: plain HTTP to other hosts (first URL and redirect hops),
credentials in feed URLs, bodies without end and gzip bombs in ``Content-Encoding``.

Servers run on 127.0.0.1; "elsewhere" is 0.0.0.0, not a loopback address yet on this machine, so
a request that must never be sent would visibly arrive.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import sqlite3
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from imagetrust.errors import DatabaseError, FeedError, UsageError
from imagetrust.match.db import enrich_nvd, update_feeds
from imagetrust.match.scan import feed_base_urls
from tests.match.conftest import base_urls
from tests.source.hostile_http import endless_body, redirect, reply, serve

KEV_PATH = "/kev/known_exploited_vulnerabilities.json"


def _kev_body(test_data: Path) -> bytes:
    return (test_data / "nvd/kev/known_exploited_vulnerabilities.json").read_bytes()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- C6/C7: plain HTTP only to loopback or hosts marked insecure ---------------------------------


def test_feed_urls_from_the_environment_refuse_plain_http_elsewhere(tmp_path: Path) -> None:
    env = {"IMAGETRUST_CONFIG": str(tmp_path / "none.toml")}
    with pytest.raises(UsageError, match="refusing plain HTTP to mirror.example.com") as info:
        feed_base_urls({**env, "IMAGETRUST_FEED_BASE_URL": "http://mirror.example.com/feeds"})
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="refusing plain HTTP to osv.example.com"):
        feed_base_urls({**env, "IMAGETRUST_FEED_URLS": "osv=http://osv.example.com/osv"})
    with pytest.raises(DatabaseError, match="invalid IMAGETRUST_FEED_URLS entry 'osv=file:"):
        feed_base_urls({**env, "IMAGETRUST_FEED_URLS": "osv=file:///tmp/osv"}, frozenset())
    with pytest.raises(DatabaseError) as info:  # a malformed entry is not echoed with its secret
        feed_base_urls({**env, "IMAGETRUST_FEED_URLS": "osv:https://u:s3cret@m.example/osv"})
    assert "s3cret" not in str(info.value)

    assert feed_base_urls({**env, "IMAGETRUST_FEED_BASE_URL": "https://mirror.example.com"})[
        "kev"] == "https://mirror.example.com/kev"
    assert feed_base_urls({**env, "IMAGETRUST_FEED_URLS": "kev=http://127.0.0.1:8/k"}) == {
        "kev": "http://127.0.0.1:8/k"}
    # explicitly trusted: by argument, or through the insecure-registries setting
    lan = {**env, "IMAGETRUST_FEED_BASE_URL": "http://mirror.lan:8080"}
    assert feed_base_urls(lan, frozenset({"mirror.lan"}))["osv"] == "http://mirror.lan:8080/osv"
    configured = {**lan, "IMAGETRUST_INSECURE_REGISTRIES": "mirror.lan:8080"}
    assert feed_base_urls(configured)["kev"] == "http://mirror.lan:8080/kev"
    (tmp_path / "cfg.toml").write_text('insecure-registries = ["mirror.lan"]\n')
    assert feed_base_urls({**lan, "IMAGETRUST_CONFIG": str(tmp_path / "cfg.toml")})["epss"]


def test_plain_http_elsewhere_is_refused_before_any_request(tmp_path: Path) -> None:
    with serve({}) as elsewhere:
        with pytest.raises(UsageError, match=r"refusing plain HTTP to 0\.0\.0\.0"):
            update_feeds(
                tmp_path / "v.sqlite", ["osv/npm", "kev"],
                base_urls={"osv": "http://127.0.0.1:9/osv",
                           "kev": f"http://0.0.0.0:{elsewhere.port}/kev"},
            )
        assert elsewhere.requests == []
    assert not (tmp_path / "v.sqlite").exists()


def test_redirect_to_plain_http_elsewhere_is_refused(tmp_path: Path, test_data: Path) -> None:
    body = _kev_body(test_data)
    with serve({"/kev.json": lambda h: reply(h, 200, body)}) as elsewhere:
        target = f"http://0.0.0.0:{elsewhere.port}/kev.json"
        with serve({KEV_PATH: redirect(target)}) as mirror:
            with pytest.raises(FeedError, match=r"refusing plain HTTP to 0\.0\.0\.0") as info:
                update_feeds(tmp_path / "v.sqlite", ["kev"], base_urls={"kev": f"{mirror.url}/kev"})
            assert mirror.paths == [KEV_PATH]
        assert elsewhere.requests == []
        assert str(info.value).startswith("feed kev: ") and "\n" not in str(info.value)

        # the same hop to a host the user marked insecure is followed
        with serve({KEV_PATH: redirect(target)}) as mirror:
            result = update_feeds(tmp_path / "v.sqlite", ["kev"],
                                  base_urls={"kev": f"{mirror.url}/kev"},
                                  insecure=frozenset({"0.0.0.0"}))
        assert result.outcomes[0].changed and elsewhere.paths == ["/kev.json"]


def test_nvd_redirect_to_plain_http_elsewhere_keeps_the_api_key_home(tmp_path: Path) -> None:
    with serve({"/cve": lambda h: reply(h, 200, b'{"vulnerabilities": []}')}) as elsewhere:
        target = f"http://0.0.0.0:{elsewhere.port}/cve"
        with serve({"/api": redirect(target)}) as nvd:
            with pytest.raises(FeedError, match=r"refusing plain HTTP to 0\.0\.0\.0"):
                enrich_nvd(tmp_path / "v.sqlite", ["CVE-2024-0001"], base_url=f"{nvd.url}/api",
                           api_key="k3y")
            assert nvd.paths == ["/api?cveId=CVE-2024-0001"]
        assert elsewhere.requests == []
    with pytest.raises(UsageError, match=r"refusing plain HTTP to 0\.0\.0\.0"):
        enrich_nvd(tmp_path / "v.sqlite", ["CVE-2024-0001"], base_url="http://0.0.0.0:9/api")


def test_nvd_api_key_is_not_sent_to_another_origin_on_redirect(tmp_path: Path) -> None:
    """httpx drops ``Authorization`` on a cross-origin redirect but forwards custom headers: the
    NVD ``apiKey`` must stay with the origin it was configured for (same host, other port is
    another origin), and still travel on a same-origin redirect."""
    empty = b'{"format": "NVD_CVE", "vulnerabilities": []}'
    with (
        serve({"/cve": lambda h: reply(h, 200, empty)}) as elsewhere,
        serve({"/api": redirect(f"{elsewhere.url}/cve"), "/moved": redirect("/v2"),
               "/v2": lambda h: reply(h, 200, empty)}) as nvd,
    ):
        enrich_nvd(tmp_path / "v.sqlite", ["CVE-2024-0001"], base_url=f"{nvd.url}/api",
                   api_key="k3y")
        enrich_nvd(tmp_path / "w.sqlite", ["CVE-2024-0002"], base_url=f"{nvd.url}/moved",
                   api_key="k3y")
        # credentials in the NVD URL are basic auth: for the configured origin only, too
        creds = f"http://u:s3cret@{nvd.url.split('://', 1)[1]}/api"
        enrich_nvd(tmp_path / "y.sqlite", ["CVE-2024-0004"], base_url=creds, api_key="k3y")
        sent = [(path.split("?")[0], headers) for _, path, headers in nvd.requests]
    assert sent[0] == ("/api", sent[0][1]) and sent[0][1].get("apikey") == "k3y"
    assert elsewhere.paths == ["/cve", "/cve"]
    assert all("apikey" not in h and "authorization" not in h for _, _, h in elsewhere.requests)
    assert [p for p, h in sent[1:3] if h.get("apikey") == "k3y"] == ["/moved", "/v2"]
    assert sent[3][0] == "/api" and sent[3][1]["authorization"].startswith("Basic ")
    with serve({"/loop": redirect("/loop")}) as looping:
        with pytest.raises(FeedError, match="more than 5 redirects for CVE-2024-0003"):
            enrich_nvd(tmp_path / "x.sqlite", ["CVE-2024-0003"], base_url=f"{looping.url}/loop")
        assert len(looping.requests) == 6
    assert not (tmp_path / "x.sqlite").exists()


# -- C7: credentials in feed URLs are used, never stored or shown --------------------------------


def test_feed_url_credentials_are_sent_but_never_stored(tmp_path: Path, test_data: Path) -> None:
    body = _kev_body(test_data)
    db = tmp_path / "v.sqlite"

    def kev(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-None-Match") == '"v1"':
            reply(handler, 304, headers={"ETag": '"v1"'})
        else:
            reply(handler, 200, body, {"ETag": '"v1"'})

    with serve({KEV_PATH: kev, "/broken/known_exploited_vulnerabilities.json":
                lambda h: reply(h, 500, b"no")}) as server:
        base = f"http://alice:s3cret@{server.host}"
        result = update_feeds(db, ["kev"], base_urls={"kev": f"{base}/kev"})
        expected_auth = "Basic " + base64.b64encode(b"alice:s3cret").decode()
        assert server.requests[0][2].get("authorization") == expected_auth
        assert server.requests[0][1] == KEV_PATH  # the URL itself carries no userinfo
        shown = f"http://***@{server.host}{KEV_PATH}"
        assert result.outcomes[0].url == shown
        conn = sqlite3.connect(db)
        assert conn.execute("SELECT url FROM feeds WHERE name = 'kev'").fetchall() == [(shown,)]
        conn.close()
        assert b"s3cret" not in db.read_bytes()

        # the stored (redacted) URL still matches: the second run is a conditional 304
        again = update_feeds(db, ["kev"], base_urls={"kev": f"{base}/kev"})
        assert not again.swapped and server.requests[-1][2].get("if-none-match") == '"v1"'

        with pytest.raises(FeedError, match="HTTP 500") as info:
            update_feeds(db, ["kev"], base_urls={"kev": f"{base}/broken"})
        assert "s3cret" not in str(info.value) and "alice" not in str(info.value)


# -- C10: bodies are read with a cap, counted after Content-Encoding is undone -------------------


def test_endless_body_stops_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGETRUST_FEED_MAX_BYTES", "1M")
    with serve({KEV_PATH: endless_body()}) as server:
        with pytest.raises(FeedError, match="1 MiB") as info:
            update_feeds(tmp_path / "v.sqlite", ["kev"], base_urls={"kev": f"{server.url}/kev"})
        assert "IMAGETRUST_FEED_MAX_BYTES" in str(info.value)
    # the server offered 256 MiB; the client hung up long before
    assert server.sent.get(KEV_PATH, 0) < 64 << 20


def test_gzip_encoded_bomb_is_counted_after_decoding(
    tmp_path: Path, test_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    valid = _kev_body(test_data) + b" " * (8 << 20)  # still valid JSON, just large
    wire = gzip.compress(valid)
    assert len(wire) < 1 << 20  # under the cap on the wire, eight times over once inflated

    def bomb(handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, wire, {"Content-Encoding": "gzip"})

    db = tmp_path / "v.sqlite"
    with serve({KEV_PATH: bomb}) as server:
        urls = {"kev": f"{server.url}/kev"}
        monkeypatch.setenv("IMAGETRUST_FEED_MAX_BYTES", "1M")
        with pytest.raises(FeedError, match="sent more than 1 MiB"):
            update_feeds(db, ["kev"], base_urls=urls)
        assert not db.exists()
        monkeypatch.delenv("IMAGETRUST_FEED_MAX_BYTES")
        with pytest.raises(FeedError, match="sent more than 1 MiB"):  # a per-call cap
            update_feeds(db, ["kev"], base_urls=urls, max_bytes={"kev": 1 << 20})
        result = update_feeds(db, ["kev"], base_urls=urls)  # the default cap: 128 MiB
        assert result.outcomes[0].record_count and result.outcomes[0].record_count > 0


def test_invalid_cap_setting_is_a_usage_error(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.feedserver import serve as serve_feeds

    monkeypatch.setenv("IMAGETRUST_FEED_MAX_BYTES", "lots")
    with serve_feeds(mirror) as server:
        with pytest.raises(UsageError, match="invalid IMAGETRUST_FEED_MAX_BYTES 'lots'"):
            update_feeds(tmp_path / "v.sqlite", ["kev"], base_urls=base_urls(server.url))
        monkeypatch.setenv("IMAGETRUST_FEED_MAX_BYTES", "64M")
        update_feeds(tmp_path / "v.sqlite", ["kev"], base_urls=base_urls(server.url))
    assert _sha(tmp_path / "v.sqlite")
