"""Merge patches, the simplified strategic merge, and the inverse patch every revert relies on."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.kube.patching import inverse_merge_patch, merge_patch, strategic_merge_patch

ORIGINAL: dict[str, Any] = {
    "metadata": {"labels": {"app": "x"}, "annotations": {"keep": "1"}},
    "spec": {
        "replicas": 3,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
        "template": {"spec": {"containers": [{"name": "a", "image": "i"}]}},
    },
}


@pytest.mark.parametrize(
    "patch",
    [
        {"spec": {"unschedulable": True}},
        {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 2}}}},
        {
            "spec": {
                "template": {"spec": {"nodeSelector": {"x": "y"}, "containers": [{"name": "a", "command": ["sh"]}]}}
            }
        },
        {"metadata": {"labels": {"app": "changed", "new": "1"}, "annotations": {"keep": None}}},
        {"spec": {"strategy": {"rollingUpdate": None}}},
    ],
)
def test_the_inverse_puts_the_object_back(patch: dict[str, Any]) -> None:
    changed = merge_patch(ORIGINAL, patch)
    assert changed != ORIGINAL
    assert merge_patch(changed, inverse_merge_patch(ORIGINAL, patch)) == ORIGINAL


def test_strategic_merge_merges_named_lists() -> None:
    target = {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]}
    patch = {
        "containers": [
            {"name": "b", "image": "3"},
            {"name": "c", "image": "4"},
            {"name": "a", "$patch": "delete"},
        ]
    }
    assert strategic_merge_patch(target, patch) == {
        "containers": [{"name": "b", "image": "3"}, {"name": "c", "image": "4"}]
    }


def test_merge_patch_replaces_lists_and_deletes_nulls() -> None:
    assert merge_patch({"a": [1, 2], "b": 1}, {"a": [3], "b": None}) == {"a": [3]}
