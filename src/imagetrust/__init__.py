"""imagetrust: how far should I trust this container image, and what should I do about it?

The package is one pipeline, each stage a subpackage that only imports earlier ones::

    reference -> source -> image -> catalog -> match -> assess -> policy -> report

The public, importable API is re-exported from :mod:`imagetrust.api`.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
