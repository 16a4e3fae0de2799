"""JSON merge patch (RFC 7386), the simplified strategic merge the suite uses, and the inverse of a merge patch.

A fault changes an object with a merge patch and stores :func:`inverse_merge_patch` of it (computed from the
object before the change) on the object, so applying the stored patch puts every touched field back exactly,
removing fields the fault added and restoring values it replaced.
"""

from __future__ import annotations

import copy
from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, ``null`` deletes, anything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Like :func:`merge_patch`, but lists of named maps (containers, env, volumes) merge item by ``name``.

    This is the part of Kubernetes' strategic merge the suite relies on; ``$patch: delete`` on a named item
    removes it.
    """
    if isinstance(patch, list) and isinstance(target, list) and _named(patch) and _named(target):
        merged = [copy.deepcopy(item) for item in target]
        for item in patch:
            index = next((i for i, old in enumerate(merged) if old.get("name") == item["name"]), None)
            if item.get("$patch") == "delete":
                if index is not None:
                    merged.pop(index)
            elif index is None:
                merged.append(copy.deepcopy(item))
            else:
                merged[index] = strategic_merge_patch(merged[index], item)
        return merged
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    return result


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


def inverse_merge_patch(original: Any, patch: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that undoes ``patch`` applied to ``original``.

    For every key the patch touches: absent in the original -> ``null`` (remove it again); both maps ->
    recurse; otherwise the original value (lists are replaced whole by merge patches, so this is exact).
    """
    source = original if isinstance(original, dict) else {}
    inverse: dict[str, Any] = {}
    for key, value in patch.items():
        if key not in source:
            inverse[key] = None
        elif isinstance(value, dict) and isinstance(source[key], dict):
            inverse[key] = inverse_merge_patch(source[key], value)
        else:
            inverse[key] = copy.deepcopy(source[key])
    return inverse
