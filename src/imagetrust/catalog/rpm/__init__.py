"""rpm databases: sqlite, Berkeley DB hash (``Packages``) and NDB (``Packages.db``)."""

from imagetrust.catalog.rpm.cataloger import RpmCataloger
from imagetrust.catalog.rpm.header import RpmHeader, RpmHeaderError, parse_header

__all__ = ["RpmCataloger", "RpmHeader", "RpmHeaderError", "parse_header"]
