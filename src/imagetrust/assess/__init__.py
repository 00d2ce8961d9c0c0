"""Stage 6: trust signals — publisher, supported tag, freshness, base image, attestations."""
