"""The application layer: each use case end to end, above every stage.

``inspect``, ``sbom``, ``cves``, ``check`` and ``audit`` each run here once, and the pieces later
commands reuse live here too: open and inventory an image once (:mod:`.inventory`), scan a
catalog against the database (:mod:`.scanning`), load the official-images library
(:mod:`.library`). The CLI (and later the service and the workers) only parse input, call one
function and render the typed document it returns. :mod:`imagetrust.api` re-exports it all.
"""
