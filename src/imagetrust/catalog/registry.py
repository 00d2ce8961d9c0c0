"""The catalogers a scan runs unless told otherwise."""

from __future__ import annotations

import importlib

from imagetrust.catalog.apk import ApkCataloger
from imagetrust.catalog.dpkg import DpkgCataloger
from imagetrust.catalog.model import Cataloger
from imagetrust.catalog.rpm import RpmCataloger

# Language catalogers live in modules written separately; each is used once it exists.
_LANGUAGE_CATALOGERS = (
    ("imagetrust.catalog.python", "PythonCataloger"),
    ("imagetrust.catalog.node", "NodeCataloger"),
    ("imagetrust.catalog.golang", "GoCataloger"),
    ("imagetrust.catalog.java", "JavaCataloger"),
)


def default_catalogers() -> list[Cataloger]:
    """OS package catalogers, then every available language cataloger, in a fixed order."""
    catalogers: list[Cataloger] = [DpkgCataloger(), ApkCataloger(), RpmCataloger()]
    for module_name, class_name in _LANGUAGE_CATALOGERS:
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            if error.name != module_name:  # the module exists but is broken: a bug to surface
                raise
            continue
        catalogers.append(getattr(module, class_name)())
    return catalogers
