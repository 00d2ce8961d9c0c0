"""Moved to :mod:`imagetrust.oci.mediatypes` (kept while in-flight code migrates)."""

from imagetrust.oci.mediatypes import *  # noqa: F403
