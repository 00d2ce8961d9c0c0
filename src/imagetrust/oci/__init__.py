"""Vocabulary of the OCI image and distribution specs, shared by every stage.

Not a pipeline stage: media types, platforms, descriptors and raw manifests are the words the
source stage fetches and the image stage interprets, so they live below both (like ``errors``).
"""
