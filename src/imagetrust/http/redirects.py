"""Redirects followed by hand, so secrets stay with the origin they were configured for.

httpx drops ``Authorization`` on a cross-origin redirect but forwards every other header, so an
API key header (NVD's ``apiKey``) would travel to whatever host a redirect names. Here each hop is
one request: secret headers and auth go only to the first request's origin (scheme, host and
port: another port is another origin), are put back if a later hop returns there, and the
plain-HTTP guard (a request hook of the client) and the circuit breaker see every hop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

MAX_REDIRECTS = 5
"""Hops followed before giving up: enough for CDN moves, short of a loop."""


def same_origin(url: httpx.URL, origin: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (origin.scheme, origin.host, origin.port)


def follow(
    client: httpx.Client,
    request: httpx.Request,
    *,
    secrets: Mapping[str, str] | None = None,
    auth: httpx.Auth | None = None,
    max_redirects: int = MAX_REDIRECTS,
    before_hop: Callable[[httpx.Request], None] | None = None,
) -> httpx.Response:
    """Send ``request`` and follow its redirects; the final response is streamed (close it).

    Raises :class:`httpx.TooManyRedirects` after ``max_redirects`` hops.
    """
    origin = request.url
    for _ in range(max_redirects + 1):
        home = same_origin(request.url, origin)
        for name, value in (secrets or {}).items():
            if home:
                request.headers[name] = value
            else:
                request.headers.pop(name, None)
        if not home:
            request.headers.pop("Authorization", None)
        if before_hop is not None:
            before_hop(request)
        response = client.send(
            request, auth=auth if home else None, stream=True, follow_redirects=False
        )
        if response.next_request is None:
            return response
        response.close()
        request = response.next_request
    raise httpx.TooManyRedirects(f"more than {max_redirects} redirects", request=request)
