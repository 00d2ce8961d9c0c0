"""SPDX id and expression checks, against license-expression and the CycloneDX schema's enum."""

from __future__ import annotations

import json

import pytest
from cyclonedx.schema._res import SPDX_JSON
from license_expression import get_spdx_licensing

from imagetrust.report.spdx_license import is_spdx_expression, spdx_id_of

# Licence strings as packages carry them: Debian copyright short names (from the app fixture's
# dpkg data), Python License/License-Expression fields, npm "license" fields.
REAL_VALUES = [
    "GPL-2", "GPL-2+", "GPL-3+ with Bison exception", "BSD-3-clause", "LGPL-2.1+",
    "public-domain", "Expat", "MIT", "ISC", "X11", "BSD-4-clause-UC", "GFDL-NIV-1.3+", "zlib",
    "GPL-2 with Linux-syscall-note exception", "BSD-3-clause and/or GPL-3+", "MIT/X11",
    "Artistic", "Apache-2.0", "Apache 2.0", "MIT License", "PSF-2.0", "BSD", "LGPLv3+",
    "Mozilla Public License 2.0 (MPL 2.0)", "Apache-2.0 OR BSD-2-Clause",
    "Apache-2.0 OR BSD-3-Clause", "(MIT OR Apache-2.0)", "MIT OR Apache-2.0", "mit or apache-2.0",
    "(MIT AND Zlib) OR Apache-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0",
    "GPL-2.0+", "LGPL-2.1-only AND (MIT OR BSD-3-Clause)", "Artistic-1.0-Perl OR GPL-1.0-or-later",
    "http://www.apache.org/licenses/LICENSE-2.0.txt", "CC0-1.0", "0BSD", "BlueOak-1.0.0",
    "(MIT", "MIT)", "MIT OR", "AND MIT", "MIT AND AND BSD-3-Clause", "()", "MIT BSD-3-Clause",
    "MIT WITH", "GPL-2.0-only WITH NotAnException", "SEE LICENSE IN LICENSE.md", "UNLICENSED",
    "Unlicense", "MIT+", "MIT++",
]
# Where this module and license-expression disagree on purpose (see the module docstring).
NOT_SPDX_ALIASES = ["GPL", "GPL 2.0", "BSD-2"]
ACCEPTED_HERE = ["LicenseRef-my-licence", "MIT AND LicenseRef-x.1", "DocumentRef-d:LicenseRef-y",
                 "MIT WITH Apache-2.0"]


def _oracle(value: str) -> bool:
    try:
        return not get_spdx_licensing().validate(value).errors
    except Exception:  # license-expression crashes on some malformed input ("MIT OR")
        return False


@pytest.mark.parametrize("value", REAL_VALUES)
def test_expressions_agree_with_license_expression(value: str) -> None:
    assert is_spdx_expression(value) == _oracle(value)


def test_documented_differences_from_license_expression() -> None:
    for alias in NOT_SPDX_ALIASES:
        assert _oracle(alias) and not is_spdx_expression(alias)
    for ref in ACCEPTED_HERE:
        assert is_spdx_expression(ref) and not _oracle(ref)


def test_ids_are_the_schema_enum_in_canonical_case() -> None:
    with open(SPDX_JSON, encoding="utf-8") as stream:
        enum = json.load(stream)["enum"]
    assert len(enum) > 500
    assert all(spdx_id_of(spdx_id.lower()) == spdx_id for spdx_id in enum)
    assert (spdx_id_of("apache-2.0"), spdx_id_of("GPL-2"), spdx_id_of("")) == (
        "Apache-2.0", None, None)
