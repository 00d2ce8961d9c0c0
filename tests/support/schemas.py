"""Validate imagetrust's JSON outputs against the schemas published in ``schemas/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def validate(command: str, document: Any) -> None:
    """Raise ``jsonschema.ValidationError`` when ``document`` breaks ``command``'s schema."""
    schema = json.loads((SCHEMAS / f"{command}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(document)
