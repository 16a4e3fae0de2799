"""Every Kubernetes object the kube backend creates or patches, checked against the schema of the pinned version.

Which version: the project pins no kind node image (``conformance/kube/data/kind-cluster.yaml`` names none, so
kind runs its own release's default), and the one Kubernetes version the project does name is the simulated
cluster's Kubernetes (:data:`conformance.versions.KUBERNETES`, the kubelet's and control plane's). The schemas are
those ``kubernetes-validate`` ships for its minor version, in their strict form: an unknown field is an error. That
matters because the API server does not reject one: with the client's default field validation it drops the field
with a warning, and the stand-in or fault silently lacks what it was written to have.

What is checked, and how:

* the functions that build objects, called directly for every bundled profile and both backends (kind and an
  existing cluster): the stand-ins (:func:`~conformance.kube.standins.render`), the capture webhook and its route,
  kind's local storage class and volumes, the pack's ``PrometheusRule`` and ``AlertmanagerConfig`` resources;
* what reaches the fake API server in a ``--backend cluster`` preparation and in every fault's apply and revert
  (and in the clean-up of a killed run's leftovers): each object as it stands after the create or the patch
  (the fake applies merge and strategic merge patches as the server does), so a patch is checked by its result.

``status`` is left out: the suite never writes it (the fake's stand-in controllers do). The Prometheus Operator's
resources (``PrometheusRule``, ``ServiceMonitor``, ``AlertmanagerConfig``) are not in ``kubernetes-validate``: they
are checked against the small hand-written schemas below, strict like the others, with the operator's field names
for every level the suite writes and Kubernetes' own ``ObjectMeta`` and ``LabelSelector``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from conformance_plugins.registry import FaultRegistry
from kube_world import CLUSTER, ENVIRONMENT, NS, RUN_ID, World, cluster_backend, ready_on_create
from referencing import Registry, Resource
from test_faults import ALL_FAULTS, prepare

from conformance import versions
from conformance.kube import resources as r
from conformance.kube.faults import patch_with_restore
from conformance.kube.inject import inject
from conformance.kube.leftovers import clean_leftovers
from conformance.kube.placement import Placement
from conformance.kube.stack import RELEASE, alertmanager_configs, prometheus_rules
from conformance.kube.standins import (
    LOCAL_STORAGE_CLASS,
    capture_manifests,
    capture_route,
    local_storage_class,
    local_volumes,
    render,
)
from conformance.model.profile import Profile
from conformance.model.scenario import Scenario, Target
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack
from conformance.profiles import bundled_profile_names, load_profile
from conformance.sim.families.ksm import _KUBELET_VERSION
from conformance.testing import objects as ko
from conformance.testing.fake_api import FakeKubeApi

Obj = dict[str, Any]

#: the Kubernetes version whose schemas the objects must meet (see the module docstring for why this one)
KUBERNETES_VERSION = ".".join(versions.KUBERNETES.lstrip("v").split(".")[:2])
GOOD_PACKS = Path(__file__).resolve().parents[1] / "data" / "packs" / "good"

# -- the checker -----------------------------------------------------------------------------------------------

_K8S_DEFS = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1."
_OBJECT_META = {"$ref": _K8S_DEFS + "ObjectMeta"}
_LABEL_SELECTOR = {"$ref": _K8S_DEFS + "LabelSelector"}
_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_STRINGS = {"type": "array", "items": _STRING}
_STRING_MAP = {"type": "object", "additionalProperties": _STRING}
#: the operator's duration pattern for rule groups and rules
_DURATION = {
    "type": "string",
    "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}


def _strict(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def _resource(api_versions: list[str], kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return _strict(
        {"apiVersion": {"enum": api_versions}, "kind": {"const": kind}, "metadata": _OBJECT_META, "spec": spec},
        ("apiVersion", "kind", "metadata", "spec"),
    )


_RULE = _strict(
    {
        "alert": _STRING,
        "record": _STRING,
        "expr": {"type": ["string", "integer"]},
        "for": _DURATION,
        "keep_firing_for": _DURATION,
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
    },
    ("expr",),
)
_RULE_GROUP = _strict(
    {
        "name": {"type": "string", "minLength": 1},
        "interval": _DURATION,
        "rules": {"type": "array", "items": _RULE},
        "limit": {"type": "integer"},
        "partial_response_strategy": _STRING,
        "query_offset": _DURATION,
        "labels": _STRING_MAP,
    },
    ("name",),
)
_ENDPOINT = _strict(
    {
        "port": _STRING,
        "targetPort": {"type": ["string", "integer"]},
        "path": _STRING,
        "scheme": _STRING,
        "interval": _STRING,
        "scrapeTimeout": _STRING,
        "honorLabels": _BOOLEAN,
        "honorTimestamps": _BOOLEAN,
        "params": {"type": "object"},
        "relabelings": {"type": "array"},
        "metricRelabelings": {"type": "array"},
    }
)
_MATCHER = _strict(
    {
        "name": {"type": "string", "minLength": 1},
        "value": _STRING,
        "matchType": {"enum": ["=", "!=", "=~", "!~"]},
        "regex": _BOOLEAN,  # v1alpha1, deprecated for matchType
    },
    ("name",),
)
_ROUTE = _strict(
    {
        "receiver": _STRING,
        "groupBy": _STRINGS,
        "groupWait": _STRING,
        "groupInterval": _STRING,
        "repeatInterval": _STRING,
        "matchers": {"type": "array", "items": _MATCHER},
        "continue": _BOOLEAN,
        # Kept as raw JSON by the API server; the operator reads each child as a route like this one.
        "routes": {"type": "array", "items": {"$ref": "#/$defs/route"}},
        "muteTimeIntervals": _STRINGS,
        "activeTimeIntervals": _STRINGS,
    }
)
_RECEIVER = _strict(
    {
        "name": {"type": "string", "minLength": 1},
        # Every receiver the suite writes is the capture webhook (the pack's own receivers are re-pointed).
        "webhookConfigs": {
            "type": "array",
            "items": _strict({"url": _STRING, "sendResolved": _BOOLEAN, "maxAlerts": {"type": "integer"}}),
        },
    },
    ("name",),
)
#: the Prometheus Operator's resources, at the levels the suite writes; the pack's own inhibit rules and time
#: intervals are copied unchanged and only checked to be lists
CRD_SCHEMAS: dict[str, dict[str, Any]] = {
    "PrometheusRule": _resource(
        ["monitoring.coreos.com/v1"],
        "PrometheusRule",
        _strict({"groups": {"type": "array", "items": _RULE_GROUP}}),
    ),
    "ServiceMonitor": _resource(
        ["monitoring.coreos.com/v1"],
        "ServiceMonitor",
        _strict(
            {
                "jobLabel": _STRING,
                "selector": _LABEL_SELECTOR,
                "endpoints": {"type": "array", "items": _ENDPOINT},
                "namespaceSelector": _strict({"any": _BOOLEAN, "matchNames": _STRINGS}),
                "targetLabels": _STRINGS,
                "podTargetLabels": _STRINGS,
            },
            ("selector",),
        ),
    ),
    "AlertmanagerConfig": {
        **_resource(
            ["monitoring.coreos.com/v1alpha1", "monitoring.coreos.com/v1beta1"],
            "AlertmanagerConfig",
            _strict(
                {
                    "route": {"$ref": "#/$defs/route"},
                    "receivers": {"type": "array", "items": _RECEIVER},
                    "inhibitRules": {"type": "array"},
                    "timeIntervals": {"type": "array"},
                    "muteTimeIntervals": {"type": "array"},
                }
            ),
        ),
        "$defs": {"route": _ROUTE},
    },
}


def _kubernetes_definitions() -> Registry[Any]:
    """Kubernetes' own definitions (ObjectMeta, LabelSelector) for the hand-written schemas to refer to."""
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}.0-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))
    return Resource.from_contents(definitions) @ Registry()


_CRD_VALIDATORS: dict[str, jsonschema.protocols.Validator] = {}


def _crd_validator(kind: str) -> jsonschema.protocols.Validator:
    if kind not in _CRD_VALIDATORS:
        schema = CRD_SCHEMAS[kind]
        jsonschema.Draft202012Validator.check_schema(schema)
        _CRD_VALIDATORS[kind] = jsonschema.Draft202012Validator(schema, registry=_kubernetes_definitions())
    return _CRD_VALIDATORS[kind]


def describe(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


def _at(path: Any) -> str:
    return ".".join(str(part) for part in path) or "(top)"


def schema_problems(obj: Obj) -> list[str]:
    """Why ``obj`` would not pass strict validation in Kubernetes :data:`KUBERNETES_VERSION`; empty when it does.

    An object of a kind with no schema here is a problem too: unchecked must never pass for checked.
    """
    body = {key: value for key, value in obj.items() if key != "status"}
    kind = str(obj.get("kind"))
    if kind in CRD_SCHEMAS:
        errors = sorted(_crd_validator(kind).iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
        return [f"{describe(obj)}: {_at(e.absolute_path)}: {e.message}" for e in errors]
    try:
        kubernetes_validate.validate(body, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{describe(obj)}: {_at(error.path)}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{describe(obj)}: no schema for {obj.get('apiVersion')} {kind} in Kubernetes {KUBERNETES_VERSION}"]
    return []


def all_problems(objects: list[Obj]) -> list[str]:
    return [problem for obj in objects for problem in schema_problems(obj)]


@dataclasses.dataclass
class SchemaWatch:
    """A reactor for the fake API server: every created or patched object, as stored, goes through the checker."""

    checked: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    def __call__(self, api: FakeKubeApi, event: str, resource: r.Resource, obj: Obj) -> None:
        if event in ("create", "patch"):
            self.checked.append(f"{event} {describe(obj)}")
            self.problems.extend(f"after {event}: {problem}" for problem in schema_problems(obj))


def watch(api: FakeKubeApi) -> SchemaWatch:
    schema_watch = SchemaWatch()
    api.reactors.insert(0, schema_watch)  # first: it sees each object before the fake's controllers react
    return schema_watch


# -- the pinned version -----------------------------------------------------------------------------------------


def test_the_version_is_the_one_the_project_names() -> None:
    assert _KUBELET_VERSION.startswith(f"v{KUBERNETES_VERSION}."), (
        f"the simulated kubelet is {_KUBELET_VERSION}: check the kube objects against that version instead"
    )
    assert f"{KUBERNETES_VERSION}.0" in kubernetes_validate.utils.all_versions()


# -- the functions that build objects --------------------------------------------------------------------------


@pytest.fixture(scope="module", params=bundled_profile_names())
def bundled(request: pytest.FixtureRequest) -> tuple[Profile, Pack]:
    profile = load_profile(str(request.param))
    return profile, load_pack(profile.pack_path)


def kind_objects(profile: Profile, pack: Pack) -> list[Obj]:
    """What ``--backend kind`` writes (besides the Helm chart's own objects)."""
    env = profile.environment
    placement = Placement.for_kind(env, CLUSTER)
    monitoring = env.monitoring_namespace
    objects = render(placement, RUN_ID, RELEASE, storage_class=LOCAL_STORAGE_CLASS)
    objects += capture_manifests(monitoring, RUN_ID)
    objects += prometheus_rules(pack, monitoring, RUN_ID, {"release": RELEASE})
    objects += alertmanager_configs(pack, RUN_ID, monitoring)
    if env.volume_claims:
        objects.append(local_storage_class(RUN_ID))
        objects += [pv for _path, _size, pv in local_volumes(placement, f"{CLUSTER}-worker", RUN_ID)]
    return objects


def cluster_objects(profile: Profile, pack: Pack) -> list[Obj]:
    """What ``--backend cluster --alert-pack`` writes, into the namespaces it creates."""
    placement = Placement.for_cluster(profile.environment, (), ["real-worker-1", "real-worker-2"])
    capture_namespace = sorted(placement.standin_namespaces)[0]
    objects = render(placement, RUN_ID, RELEASE, storage_class=None)
    objects += capture_manifests(capture_namespace, RUN_ID)
    objects += prometheus_rules(pack, capture_namespace, RUN_ID, {"role": "alert-rules"})
    for namespace in sorted(set(placement.namespaces.values())):
        objects.append(capture_route(namespace, RUN_ID, {"team": "platform"}, capture_namespace))
    return objects


def test_kind_objects_of_every_bundled_profile(bundled: tuple[Profile, Pack]) -> None:
    objects = kind_objects(*bundled)
    assert {"Namespace", "ConfigMap", "Deployment", "Service", "PrometheusRule"} <= {o["kind"] for o in objects}
    assert all_problems(objects) == []


def test_cluster_objects_of_every_bundled_profile(bundled: tuple[Profile, Pack]) -> None:
    objects = cluster_objects(*bundled)
    assert {"Namespace", "Deployment", "PrometheusRule", "AlertmanagerConfig"} <= {o["kind"] for o in objects}
    assert all_problems(objects) == []


def test_every_kind_the_bundled_profiles_produce_is_checked() -> None:
    """The kinds above, over all profiles: a new kind shows up here (and must pass the checker like the rest)."""
    kinds: set[str] = set()
    for name in bundled_profile_names():
        profile = load_profile(name)
        pack = load_pack(profile.pack_path)
        kinds |= {o["kind"] for o in kind_objects(profile, pack) + cluster_objects(profile, pack)}
    assert kinds >= {
        "AlertmanagerConfig",
        "ConfigMap",
        "CronJob",
        "Deployment",
        "Namespace",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "PrometheusRule",
        "Service",
        "ServiceMonitor",
        "StatefulSet",
        "StorageClass",
    }


@pytest.mark.parametrize("folder", sorted(p.name for p in (GOOD_PACKS / "operator").iterdir() if p.is_dir()))
def test_alertmanager_configs_of_the_operator_examples(folder: str) -> None:
    objects = alertmanager_configs(load_pack(GOOD_PACKS / "operator" / folder), RUN_ID, "monitoring")
    assert objects
    assert all_problems(objects) == []


# -- what reaches the API server ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runai() -> tuple[Profile, Pack]:
    profile = load_profile("runai")
    return profile, load_pack(profile.pack_path)


def test_existing_cluster_preparation(fake_kube_api: FakeKubeApi, tmp_path: Path, runai: tuple[Profile, Pack]) -> None:
    api = fake_kube_api
    api.add(ko.node("real-worker-1"))
    # The cluster's own operator objects, which the backend reads for its selectors (not written: not checked).
    api.add(ko.alertmanager(alertmanagerConfigSelector=ko.selecting(team="platform")))
    api.add(
        ko.prometheus(
            ruleSelector=ko.selecting(role="alert-rules"), ruleNamespaceSelector=ko.selecting(monitoring="enabled")
        )
    )
    api.reactors.append(ready_on_create)
    schema_watch = watch(api)
    backend = cluster_backend(
        api, tmp_path, runai, allow_disruption=True, allow_nodes=True, alert_pack=runai[0].pack_path
    )
    backend.prepare()
    kinds = {line.split(" ")[1] for line in schema_watch.checked}
    assert {"Namespace", "Deployment", "PrometheusRule", "AlertmanagerConfig"} <= kinds
    assert any(line.startswith("patch Namespace") for line in schema_watch.checked)  # the rules namespace label
    assert schema_watch.problems == []


def test_the_fake_worlds_objects_are_valid(world: World) -> None:
    """The objects the fault tests start from (``conformance.testing.objects``): real-looking, or a fault's patch
    could be checked against a state no cluster has."""
    assert all_problems(list(world.api.objects.values())) == []


#: faults that change objects only by deleting them, or only inside containers and kubelets
WRITES_NOTHING = {"kill-pods"}


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_fault_apply_and_revert(world: World, fault: str) -> None:
    injector = prepare(world, fault)
    schema_watch = watch(world.api)
    inject(world.ctx, [injector], lambda: None)
    assert bool(schema_watch.checked) != (fault in WRITES_NOTHING), schema_watch.checked
    assert schema_watch.problems == []


#: the faults' other forms, chosen by what they target: (fault, target, level, on an existing cluster)
VARIANTS: dict[str, tuple[str, Target, float | None, bool]] = {
    "statefulset-unavailable": ("unavailable-replicas", Target(namespace=NS, workload="db"), 1, False),
    "daemonset-unavailable": ("unavailable-replicas", Target(namespace=NS, workload="agent"), 1, False),
    "real-workload-target-down": ("target-down", Target(namespace=NS, workload="api"), None, True),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_fault_variant_apply_and_revert(world: World, variant: str) -> None:
    fault, target, level, existing_cluster = VARIANTS[variant]
    placement = Placement.for_cluster(ENVIRONMENT, (NS,)) if existing_cluster else world.placement
    scenario = Scenario(variant, fault, target)
    injector = FaultRegistry().get(fault).build(scenario, placement.resolve(scenario), level)
    schema_watch = watch(world.api)
    inject(world.ctx, [injector], lambda: None)
    assert schema_watch.checked
    assert schema_watch.problems == []


@pytest.mark.parametrize("fault", sorted(set(ALL_FAULTS) - WRITES_NOTHING))
def test_fault_left_behind_by_a_killed_run_is_cleaned(world: World, fault: str) -> None:
    """A killed run's fault, restored by the next run's clean-up (the stored inverse merge patch)."""
    prepare(world, fault).apply(dataclasses.replace(world.ctx, run_id="r-killed"))
    schema_watch = watch(world.api)
    cleaned = clean_leftovers(world.ctx, [NS], FaultRegistry().get)
    assert cleaned, "nothing was left behind to clean"
    assert schema_watch.problems == []


# -- the checker catches what it must -----------------------------------------------------------------------


def _rename(path: list[Any], new_key: str) -> Callable[[Obj], None]:
    """A change renaming the key at ``path`` (a misspelling)."""

    def change(obj: Obj) -> None:
        parent = obj
        for part in path[:-1]:
            parent = parent[part]
        parent[new_key] = parent.pop(path[-1])

    return change


def _first(objects: list[Obj], kind: str) -> Obj:
    return copy.deepcopy(next(o for o in objects if o["kind"] == kind))


MISSPELLINGS = [
    ("Deployment", ["spec", "template", "spec", "terminationGracePeriodSeconds"], "terminationGracePeriodSecond"),
    ("Deployment", ["spec", "template", "spec", "containers", 0, "resources"], "resource"),
    ("PersistentVolumeClaim", ["spec", "accessModes"], "accesModes"),
    ("Namespace", ["metadata", "labels"], "lables"),
    ("PrometheusRule", ["spec", "groups", 0, "rules", 0, "annotations"], "anotations"),
    ("ServiceMonitor", ["spec", "endpoints", 0, "path"], "paht"),
    ("AlertmanagerConfig", ["spec", "receivers", 0, "webhookConfigs"], "webhookConfig"),
    ("AlertmanagerConfig", ["spec", "route", "groupWait"], "group_wait"),
]


@pytest.mark.parametrize(("kind", "path", "misspelt"), MISSPELLINGS, ids=[m[2] for m in MISSPELLINGS])
def test_a_misspelt_field_is_caught(runai: tuple[Profile, Pack], kind: str, path: list[Any], misspelt: str) -> None:
    profile, pack = runai
    objects = kind_objects(profile, pack) + cluster_objects(profile, pack)
    obj = _first(objects, kind)
    assert schema_problems(obj) == []
    _rename(path, misspelt)(obj)
    problems = schema_problems(obj)
    assert problems and misspelt in problems[0], problems


def test_a_misspelt_field_in_a_patch_is_caught(world: World) -> None:
    schema_watch = watch(world.api)
    patch_with_restore(world.ctx, r.NODES, f"{CLUSTER}-worker", None, {"spec": {"unschedulabel": True}}, "cordon")
    assert any("unschedulabel" in problem for problem in schema_watch.problems), schema_watch.problems


def test_a_wrong_type_is_caught(runai: tuple[Profile, Pack]) -> None:
    service = _first(kind_objects(*runai), "Service")
    service["spec"]["ports"][0]["port"] = "eighty"
    assert schema_problems(service)


def test_a_kind_without_a_schema_is_a_problem_not_a_pass() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert schema_problems(widget) == [
        f"Widget w: no schema for example.com/v1 Widget in Kubernetes {KUBERNETES_VERSION}"
    ]
