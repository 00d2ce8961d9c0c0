"""JSON parsing of untrusted bytes that fails only with an :class:`ImagetrustError`.

``json.loads`` raises ``RecursionError`` on deeply nested input (``[[[[…]]]]``), which is not a
``ValueError`` and so slipped past every ``except ValueError`` into a traceback. Every parse of
input from registries, archives, daemons or downloads goes through :func:`loads` instead.
"""

from __future__ import annotations

import json
from typing import Any

from imagetrust.errors import ImagetrustError, ManifestError

_MAX_REASON = 120


def loads(
    data: bytes | bytearray | str,
    *,
    what: str,
    error: type[ImagetrustError] = ManifestError,
) -> Any:
    """Parse ``data``; anything malformed raises ``error("<what> is not valid JSON: …")``."""
    try:
        return json.loads(data)
    except RecursionError:
        reason = "nested too deeply"
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except ValueError as exc:  # e.g. integers with too many digits
        reason = str(exc)
    reason = " ".join(reason.split())[:_MAX_REASON]
    raise error(f"{what} is not valid JSON: {reason}") from None
