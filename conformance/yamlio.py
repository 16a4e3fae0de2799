"""YAML reading that remembers where every value came from, so errors can name file and line.

``load_documents`` returns each document of a (multi-document) YAML file with a ``line_of`` lookup from a
path such as ``("alerts", 3, "severity")`` to its 1-based line. Malformed YAML becomes a
:class:`~conformance.errors.YamlSyntaxError` naming the file, line and column and what the parser expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import YamlSyntaxError

PathKey = tuple[str | int, ...]


@dataclass
class Document:
    """One YAML document: its data and the line of each value inside it."""

    data: Any
    source: str
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def place(self, path: Sequence[str | int]) -> str:
        """``line 12 (alerts[3].severity)``: the location text used in error messages."""
        line = self.line_of(path)
        dotted = format_path(path)
        if line is None:
            return dotted or "top level"
        return f"line {line}" + (f" ({dotted})" if dotted else "")


def format_path(path: Sequence[str | int]) -> str:
    """``("alerts", 3, "severity")`` -> ``alerts[3].severity``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _construct(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], loader: yaml.SafeLoader) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                hash(key)
            except TypeError:
                raise _MappingKeyError(f"a mapping key must be a plain value, not {type(key).__name__}", line) from None
            if key in result:
                # PyYAML would keep the last value silently; Prometheus and Alertmanager refuse the file.
                raise _MappingKeyError(f"mapping key {key!r} already defined at line {first_line[key]}", line)
            first_line[key] = line
            key_text = key if isinstance(key, str) else str(key)
            result[key] = _construct(value_node, (*path, key_text), lines, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, (*path, index), lines, loader) for index, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


class _MappingKeyError(Exception):
    """A mapping key YAML allows but Prometheus-family tools refuse: repeated, or not a plain value."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _syntax_error(source: str, error: yaml.YAMLError) -> YamlSyntaxError:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    what = f"{context}, {problem}" if context else problem
    place = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
    return YamlSyntaxError(f"malformed YAML: {what}", source=source, place=place)


def load_text(text: str, source: str) -> list[Document]:
    """Every non-empty document in ``text``; ``source`` names it in errors."""
    documents: list[Document] = []
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            lines: dict[PathKey, int] = {}
            data = _construct(node, (), lines, loader)
            if data is not None:
                documents.append(Document(data=data, source=source, lines=lines))
    except yaml.YAMLError as error:
        raise _syntax_error(source, error) from None
    except _MappingKeyError as error:
        raise YamlSyntaxError(f"malformed YAML: {error.message}", source=source, place=f"line {error.line}") from None
    finally:
        loader.dispose()
    return documents


def load_documents(path: Path) -> list[Document]:
    """Every non-empty document in the YAML file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise YamlSyntaxError(f"not UTF-8 text ({error.reason})", source=str(path)) from None
    return load_text(text, str(path))


def load_one(path: Path) -> Document:
    """The single document a file must hold (a profile, a plain config)."""
    documents = load_documents(path)
    if len(documents) != 1:
        raise YamlSyntaxError(f"expected one YAML document, found {len(documents)}", source=str(path))
    return documents[0]


def dump(data: Any) -> str:
    """YAML text in a stable, readable form (block style, keys in insertion order)."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
