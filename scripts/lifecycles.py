"""Write src/imagetrust/data/lifecycles.json from an endoflife.date checkout's product files.

    python scripts/lifecycles.py PATH/TO/endoflife.date [COMMIT]

Each ``products/<name>.md`` starts with YAML front matter listing ``releases`` (releaseCycle,
releaseDate, eol, eoes, lts, …). We keep, per release, the dates that decide whether an image on
it still gets security fixes: ``security_until`` is ``eoes`` where the extended support is free
and comes through the distribution's own security archive (Debian LTS), else ``eol`` (Ubuntu's
ESM needs a Pro subscription that official images do not carry). Which product each imagetrust
OS id or runtime maps to is the table below. The data is MIT-licensed (endoflife.date
contributors); the output records the commit it came from.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parents[1] / "src" / "imagetrust" / "data" / "lifecycles.json"

# imagetrust product name -> (endoflife.date product, kind, os-release IDs or runtime env vars,
# the field that ends security support)
PRODUCTS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "debian": ("debian", "os", ("debian",), "eoes"),
    "ubuntu": ("ubuntu", "os", ("ubuntu",), "eol"),
    "alpine": ("alpine-linux", "os", ("alpine",), "eol"),
    "almalinux": ("almalinux", "os", ("almalinux",), "eol"),
    "rocky": ("rocky-linux", "os", ("rocky",), "eol"),
    "oraclelinux": ("oracle-linux", "os", ("ol",), "eol"),
    "amazonlinux": ("amazon-linux", "os", ("amzn",), "eol"),
    "fedora": ("fedora", "os", ("fedora",), "eol"),
    "centos": ("centos", "os", ("centos",), "eol"),
    "rhel": ("rhel", "os", ("rhel",), "eol"),
    "opensuse-leap": ("opensuse", "os", ("opensuse-leap",), "eol"),
    "sles": ("sles", "os", ("sles",), "eol"),
    "photon": ("vmware-photon", "os", ("photon",), "eol"),
    "node": ("nodejs", "runtime", ("NODE_VERSION",), "eol"),
    "python": ("python", "runtime", ("PYTHON_VERSION",), "eol"),
    "postgres": ("postgresql", "runtime", ("PG_MAJOR", "PG_VERSION"), "eol"),
    "golang": ("go", "runtime", ("GOLANG_VERSION",), "eol"),
    "eclipse-temurin": ("eclipse-temurin", "runtime", ("JAVA_VERSION",), "eol"),
    "php": ("php", "runtime", ("PHP_VERSION",), "eol"),
    "ruby": ("ruby", "runtime", ("RUBY_VERSION",), "eol"),
    "nginx": ("nginx", "runtime", ("NGINX_VERSION",), "eol"),
    "redis": ("redis", "runtime", ("REDIS_VERSION",), "eol"),
    "mysql": ("mysql", "runtime", ("MYSQL_VERSION", "MYSQL_MAJOR"), "eol"),
    "mariadb": ("mariadb", "runtime", ("MARIADB_VERSION",), "eol"),
}


def _value(value: Any) -> str | bool | None:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool) or value is None:
        return value
    return str(value)


def front_matter(text: str) -> dict[str, Any]:
    _, head, _ = text.split("---", 2)
    data: dict[str, Any] = yaml.safe_load(head)
    return data


def product(checkout: Path, name: str) -> dict[str, Any]:
    source, kind, keys, security = PRODUCTS[name]
    data = front_matter((checkout / "products" / f"{source}.md").read_text(encoding="utf-8"))
    releases = []
    for release in data.get("releases", []):
        eol = _value(release.get("eol"))
        eoes = _value(release.get("eoes"))
        until = eoes if security == "eoes" and eoes not in (None, False) else eol
        releases.append({
            "cycle": str(release["releaseCycle"]),
            "codename": (str(release["codename"]).split()[0].lower()
                         if release.get("codename") else None),
            "released": _value(release.get("releaseDate")),
            "eol": eol,
            "eoes": eoes,
            "security_until": until,
            "lts": bool(release.get("lts")),
            "latest": _value(release.get("latest")),
        })
    return {"source": source, "kind": kind, "match": list(keys), "security_field": security,
            "releases": releases}


def main(argv: list[str]) -> int:
    checkout = Path(argv[1])
    commit = argv[2] if len(argv) > 2 else subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
        check=False,
    ).stdout.strip() or None
    document = {
        "format": "imagetrust-lifecycles/1",
        "source": "https://github.com/endoflife-date/endoflife.date (products/*.md), MIT",
        "commit": commit,
        "products": {name: product(checkout, name) for name in PRODUCTS},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
