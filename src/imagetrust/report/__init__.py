"""Stage 8: formatters over one report model (table, JSON, SARIF, CycloneDX, SPDX…)."""
