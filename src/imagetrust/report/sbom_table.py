"""``imagetrust sbom --format table``: the inventory for people."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from imagetrust.catalog.model import Catalog


def render_sbom_table(catalog: Catalog, image: str, console: Console) -> None:
    """Packages sorted by type and name, then counts per type and any skips."""
    os_text = catalog.os.pretty_name or catalog.os.id if catalog.os else "unknown OS"
    table = Table(title=f"{image} — {os_text}", title_justify="left")
    for column in ("name", "version", "type", "source", "layer"):
        table.add_column(column, overflow="fold")
    for pkg in catalog.packages:
        source = ""
        if pkg.source_name and (pkg.source_name, pkg.source_version) != (pkg.name, pkg.version):
            source = f"{pkg.source_name} {pkg.source_version or ''}".strip()
        first = pkg.introduced_by
        layer = str(first.layer_index) if first and first.layer_index >= 0 else "-"
        table.add_row(pkg.name, pkg.version, pkg.type, source, layer)
    console.print(table)
    counts = Counter(pkg.type for pkg in catalog.packages)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    console.print(f"{len(catalog.packages)} packages ({summary or 'none'})")
    for skip in catalog.skips:
        console.print(f"[yellow]skipped[/] {skip.cataloger}: {skip.path}: {skip.reason}")
