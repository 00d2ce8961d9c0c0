"""Vulnerability matching: the embedded database (``db``), the feeds that fill it (``feeds``) and
the per-ecosystem matchers that turn catalogued packages into findings."""
