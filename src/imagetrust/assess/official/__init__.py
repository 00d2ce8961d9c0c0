"""Docker Official Images: the official-images ``library/`` files, parsed and kept in the cache."""

from imagetrust.assess.official.download import DEFAULT_ARCHIVE_URL, update_library
from imagetrust.assess.official.generations import (
    LibraryMissingError,
    LibraryUpdate,
    load_library,
)
from imagetrust.assess.official.importer import import_library
from imagetrust.assess.official.library import (
    LibraryEntry,
    LibraryFile,
    LibraryParseError,
    bashbrew_arch,
    parse_library,
)
from imagetrust.assess.official.model import (
    LibraryMeta,
    OfficialLibrary,
    TagStatus,
    official_name,
)

__all__ = [
    "DEFAULT_ARCHIVE_URL",
    "LibraryMeta",
    "LibraryMissingError",
    "LibraryEntry",
    "LibraryFile",
    "LibraryParseError",
    "OfficialLibrary",
    "TagStatus",
    "LibraryUpdate",
    "bashbrew_arch",
    "import_library",
    "load_library",
    "official_name",
    "parse_library",
    "update_library",
]
