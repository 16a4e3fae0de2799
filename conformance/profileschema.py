"""The profile schema, and its violations said in words an author can act on.

jsonschema's own messages name the rule, not the fix: "Additional properties are not allowed ('fore' was
unexpected)" never says which keys are allowed, and "'meaning' is a required property" reads like a statement.
Here an unknown key is reported at its own line with the keys allowed in that place (and the nearest one when it
looks like a typo), missing keys are listed together, and a wrong type says what was expected and what was found.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from conformance.errors import ProfileError
from conformance.yamlio import Document

SchemaPath = tuple[str | int, ...]

#: A JSON type as an author of YAML calls it.
TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}
_SHORT = 60


@cache
def profile_schema() -> dict[str, Any]:
    """The JSON schema every profile is validated by (shipped inside the package)."""
    text = resources.files("conformance").joinpath("schema/profile.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def schema_errors(document: Document) -> list[tuple[SchemaPath, ProfileError]]:
    """Every schema violation of the document, one error per place (several problems in one place share it),
    in document order."""
    validator = jsonschema.Draft202012Validator(profile_schema())
    found: dict[SchemaPath, list[str]] = {}
    for error in validator.iter_errors(document.data):
        for path, message in _explain(error):
            messages = found.setdefault(path, [])
            if message not in messages:
                messages.append(message)
    ordered = sorted(found, key=lambda p: (document.line_of(p) or 0, len(p)))
    return [
        (
            path,
            ProfileError(
                "breaks the profile schema: " + "; ".join(found[path]),
                source=document.source,
                place=document.place(list(path)),
            ),
        )
        for path in ordered
    ]


def _explain(error: jsonschema.ValidationError) -> list[tuple[SchemaPath, str]]:
    """The places and messages one jsonschema error stands for."""
    path: SchemaPath = tuple(error.absolute_path)
    keyword = error.validator
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    listed: list[Any] = list(error.validator_value) if isinstance(error.validator_value, list) else []
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(schema.get("properties", {}))
        return [
            ((*path, key), unknown_key_message(str(key), allowed))
            for key in error.instance
            if key not in schema.get("properties", {})
        ]
    if keyword == "required" and isinstance(error.instance, dict):
        missing = [key for key in listed if key not in error.instance]
        message = "missing required key" + ("s " if len(missing) > 1 else " ") + ", ".join(map(repr, missing))
        conditional = list(error.schema_path)[-2:-1] in (["then"], ["else"])
        if conditional and "description" in schema:
            message += f" ({schema['description']})"
        return [(path, message)]
    if keyword == "type":
        return [(path, f"expected {_expected(schema)}, got {_found(error.instance)}")]
    if keyword == "enum":
        values = ", ".join(str(value) for value in listed)
        return [(path, f"{_short(error.instance)} is not one of: {values}")]
    if keyword in ("minItems", "minProperties") and error.validator_value == 1:
        # jsonschema's "[] should be non-empty" names the value, not what to write there.
        empty = (
            "an empty list: give at least one item"
            if keyword == "minItems"
            else "an empty mapping: give at least one key"
        )
        return [(path, empty)]
    if keyword == "pattern" and "title" in schema:
        what = f" ({schema['description']})" if "description" in schema else ""
        return [(path, f"{_short(error.instance)} is not a valid {schema['title']}{what}")]
    return [(path, error.message)]


def unknown_key_message(key: str, allowed: Sequence[str]) -> str:
    """``unknown key 'fore': did you mean 'for'? (allowed here: ...)``."""
    near = _near(key, allowed)
    hint = f": did you mean {' or '.join(map(repr, near))}?" if near else ""
    return f"unknown key {key!r}{hint} (allowed here: {', '.join(allowed)})"


def _near(key: str, allowed: Sequence[str]) -> list[str]:
    """The allowed keys an author probably meant: those sharing the key's stem (``limits``: ``cpu_limit``,
    ``memory_limit``), else the one closest in spelling (``fore``: ``for``), else none."""
    stem = key[:-1] if key.endswith("s") and len(key) > 3 else key
    sharing = [name for name in allowed if len(stem) >= 3 and (stem in name or (len(name) >= 3 and name in key))]
    if sharing:
        return sharing[:3]
    return difflib.get_close_matches(key, allowed, n=1, cutoff=0.7)


def _expected(schema: Mapping[str, Any]) -> str:
    types = schema.get("type")
    names = [types] if isinstance(types, str) else list(types or [])
    words = " or ".join(TYPE_WORDS.get(name, name) for name in names)
    if names == ["object"] and schema.get("properties"):
        return f"{words} with the keys {', '.join(schema['properties'])}"
    return words


def _found(instance: Any) -> str:
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return "a list"
    if isinstance(instance, bool):
        return f"{str(instance).lower()}"
    if instance is None:
        return "nothing (null)"
    kind = "the string" if isinstance(instance, str) else "the number"
    return f"{kind} {_short(instance)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."
