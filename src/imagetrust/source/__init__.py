"""Stage 2: get bytes — from a registry, a docker-save tarball, an OCI layout or a directory."""
