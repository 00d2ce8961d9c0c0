"""Names a module loads on first use (PEP 562), so importing a package costs only what is used.

An offline scan must not pay start-up time for httpx, the feed parsers or the download code it
never calls; packages that re-export such names map each to the module defining it and set
``__getattr__ = lazy_exports(__name__, {...})``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(module: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` loading each name from its home: a submodule of ``module``
    (``"store"``) or a full module path (``"imagetrust.x.y"``); loaded once, then cached."""

    def load(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        path = home if "." in home else f"{module}.{home}"
        value = getattr(importlib.import_module(path), name)
        setattr(sys.modules[module], name, value)
        return value

    return load


__all__ = ["lazy_exports"]
