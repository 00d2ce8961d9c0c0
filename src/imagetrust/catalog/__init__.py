"""Stage 4: package inventory — OS and language packages found in the merged file view."""
