"""The profile format for authors, generated from the schema that validates it.

``python -m conformance profile-format`` prints it and ``docs/profile.md`` is the same text (a test fails when
the page drifts from the schema): every object of ``schema/profile.schema.json`` gets a section with each key,
whether it is required, its type, allowed values or pattern, its default and its description, after one complete
example profile that a test loads and proves at depths 1-4 (``schema/example/``), so the example cannot rot.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

from conformance.profileschema import profile_schema

EXAMPLE = "schema/example/profile.yaml"
ROOT = "profile"

INTRO = """\
A profile is one YAML file: the contract of a vendor's alerting document. It names the documents it encodes
(`seeds`), the reference alert pack (`pack`), a stand-in cluster (`environment`), the documented Alertmanager
set-ups (`routing`) and every documented alert (`alerts`) with its numbers and the scenarios that must trigger it.

Start from the example below (`python -m conformance profile-format --example > profile.yaml`), then check it:

    python -m conformance validate profile.yaml                    # every error at once, each with its line
    pytest --profile profile.yaml --alert-pack=./my-pack -m static  # depths 1-4 against your pack

`pack:` is the reference pack, relative to the profile file; `--alert-pack` proves another pack instead. The
faults a scenario can name, with their targets, levels and parameters, are in `python -m conformance faults`
(docs/faults.md). Every number of an alert is either `documented: true`, best with the document's words in
`quote`, or `documented: false` with a `note` saying it is the reference pack's choice.
"""


def example_text() -> str:
    """The example profile, as shipped inside the package next to its pack."""
    return resources.files("conformance").joinpath(EXAMPLE).read_text(encoding="utf-8")


def _defs() -> dict[str, Any]:
    defs: dict[str, Any] = profile_schema()["$defs"]
    return defs


def _is_object(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object" and "properties" in schema


def _sections() -> dict[str, Mapping[str, Any]]:
    """Every object of the schema by name: the profile itself first, then the definitions in schema order."""
    found: dict[str, Mapping[str, Any]] = {ROOT: profile_schema()}
    found.update({name: schema for name, schema in _defs().items() if _is_object(schema)})
    return found


def _ref(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else None


def _link(name: str) -> str:
    target = _defs()[name]
    if _is_object(target):
        return f"[{name}](#{name.lower()})"
    return f"[{target.get('title', name)}](#{target.get('title', name).lower().replace(' ', '-')})"


def _bounds(schema: Mapping[str, Any]) -> str:
    parts = []
    if "minimum" in schema:
        parts.append(f">= {schema['minimum']}")
    if "exclusiveMinimum" in schema:
        parts.append(f"> {schema['exclusiveMinimum']}")
    if "maximum" in schema:
        parts.append(f"<= {schema['maximum']}")
    return f" ({', '.join(parts)})" if parts else ""


def type_of(schema: Mapping[str, Any]) -> str:
    """A schema's type in words, with links to the sections of the objects it holds."""
    name = _ref(schema)
    if name:
        return _link(name)
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        prefix = "non-empty list of " if schema.get("minItems", 0) >= 1 else "list of "
        return prefix + _plural(type_of(schema.get("items", {})))
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, Mapping):
            return "mapping of names to " + _plural(type_of(values))
        return "mapping"
    if isinstance(kind, list):
        return " or ".join(kind)
    text = {"integer": "whole number"}.get(str(kind), str(kind))
    if kind == "string" and schema.get("minLength", 0) >= 1:
        text = "non-empty string"
    if "pattern" in schema:
        text += f" matching `{schema['pattern']}`"
    return text + _bounds(schema)


def _plural(text: str) -> str:
    """``string`` -> ``strings`` for the items of a list; links and value lists stay as they are."""
    for word in ("string", "number", "boolean"):
        if text == word or text.startswith((f"{word} ", f"non-empty {word}")):
            return text.replace(word, f"{word}s", 1)
    return text


def _default(schema: Mapping[str, Any]) -> str:
    if "default" not in schema:
        return ""
    value = schema["default"]
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return str(value) if isinstance(value, str) and " " in value else f"`{value}`"


def _cell(text: str) -> str:
    """Table cell text: a bare ``|`` would end the cell (GitHub tables need it escaped even inside code)."""
    return text.replace("|", "\\|").replace("\n", " ")


def _used_in() -> dict[str, list[str]]:
    """Per object, the ``section.key`` places that hold it."""
    used: dict[str, list[str]] = {}
    for section, schema in _sections().items():
        for key, prop in schema["properties"].items():
            held = prop.get("items", prop) if prop.get("type") == "array" else prop
            name = _ref(held)
            if name and _is_object(_defs()[name]):
                used.setdefault(name, []).append(f"[{section}](#{section.lower()}).`{key}`")
    return used


def _conditions(schema: Mapping[str, Any]) -> list[str]:
    """Requirements that depend on another key's value (``if``/``then``/``else``), in words."""
    return [
        f"- `{'`, `'.join(schema[branch]['required'])}` is also required: {schema[branch]['description']}."
        for branch in ("then", "else")
        if branch in schema and "description" in schema[branch]
    ]


def _section(name: str, schema: Mapping[str, Any], used: list[str]) -> list[str]:
    out = ["", f"## {name}", ""]
    if schema.get("description"):
        out += [schema["description"], ""]
    if used:
        out += [f"In: {', '.join(used)}.", ""]
    required = set(schema.get("required", ()))
    out += ["| key | required | type | default | meaning |", "| --- | --- | --- | --- | --- |"]
    for key, prop in schema["properties"].items():
        cells = [f"`{key}`", "required" if key in required else "optional", type_of(prop), _default(prop)]
        out.append("| " + " | ".join(_cell(cell) for cell in [*cells, prop.get("description", "")]) + " |")
    conditions = _conditions(schema)
    if schema.get("minProperties") and name != ROOT:
        conditions.append(f"- At least {schema['minProperties']} key.")
    if conditions:
        out += ["", *conditions]
    return out


def _value_types() -> list[str]:
    out = ["", "## Value types", ""]
    for schema in _defs().values():
        if _is_object(schema):
            continue
        out += [f"### {schema.get('title')}", "", schema.get("description", ""), ""]
        rule = type_of({key: value for key, value in schema.items() if key not in ("title", "description")})
        out += [f"Type: {rule}.", ""]
    return out[:-1]


def render_markdown() -> str:
    """The page ``docs/profile.md``."""
    sections = _sections()
    used = _used_in()
    out = [
        "# Profile format",
        "",
        "<!-- Generated from conformance/schema/profile.schema.json by "
        "`python -m conformance profile-format > docs/profile.md`; do not edit. -->",
        "",
        INTRO,
        "## Example",
        "",
        "A complete, valid profile (`conformance/schema/example/profile.yaml`; its pack is next to it, and a test",
        "proves it at depths 1-4 on every change):",
        "",
        "```yaml",
        example_text().rstrip("\n"),
        "```",
        "",
        "## Contents",
        "",
    ]
    out += [f"- [{name}](#{name.lower()})" for name in sections] + ["- [Value types](#value-types)"]
    for name, schema in sections.items():
        out += _section(name, schema, used.get(name, []))
    out += _value_types()
    return "\n".join(out) + "\n"
