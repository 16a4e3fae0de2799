"""A thin typed wrapper over the official ``kubernetes`` client: plain-dict objects, one error type, and
wait-for-condition helpers that always have a deadline.

Requests go through the official :class:`kubernetes.client.ApiClient` (authentication, TLS and the kubeconfig
handling stay the client's), with objects kept as plain dicts so a fault can compute the exact patch that undoes
it. Every call has a request timeout; every wait has a deadline and raises :class:`WaitTimeoutError` past it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

from conformance.errors import BackendError
from conformance.kube import resources as r
from conformance.kube.resources import Resource

T = TypeVar("T")
Obj = dict[str, Any]
PatchStrategy = Literal["merge", "strategic"]

_CONTENT_TYPES: dict[PatchStrategy, str] = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


class KubeApiError(BackendError):
    """The API server answered with an error status (``status``: 404, 403, 409 ...) or could not be reached."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        self.status = status
        self.reason = reason
        super().__init__(message)


class WaitTimeoutError(BackendError):
    """A wait-for-condition passed its deadline; the message says what was awaited and for how long."""


class KubeClient:
    """Reads and writes Kubernetes objects as dicts through the official client's :class:`ApiClient`."""

    def __init__(
        self,
        api_client: Any,
        *,
        request_timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_client = api_client
        self.request_timeout_s = request_timeout_s
        self._sleep = sleep
        self._clock = clock

    @classmethod
    def from_kubeconfig(cls, kubeconfig: Path | None = None, context: str | None = None) -> KubeClient:
        """A client for ``context`` of ``kubeconfig`` (default: ``$KUBECONFIG`` or ``~/.kube/config``)."""
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        configuration = client.Configuration()
        try:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=str(kubeconfig) if kubeconfig else None,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
        except (ConfigException, OSError) as error:
            where = str(kubeconfig) if kubeconfig else "the default kubeconfig"
            raise BackendError(f"{where}: cannot load context {context or '(current)'}: {error}") from None
        return cls(client.ApiClient(configuration))

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    # -- raw requests ---------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        raw: bool = False,
    ) -> Any:
        """One API call; returns decoded JSON (or bytes with ``raw``); an error status is a :class:`KubeApiError`."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        url_path = path + (f"?{urlencode(query)}" if query else "")
        headers = {"Accept": "application/json, */*", "Content-Type": content_type}
        try:
            method_, url, header_params, serialized, post = self.api_client.param_serialize(
                method=method,
                resource_path=url_path,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self.api_client.call_api(
                method_,
                url,
                header_params=header_params,
                body=serialized,
                post_params=post,
                _request_timeout=self.request_timeout_s,
            )
            data: bytes = response.read()
            status = int(response.status)
        except ApiException as error:
            status, data = int(error.status or 0), (error.body or "").encode() if isinstance(error.body, str) else b""
        except (HTTPError, OSError) as error:
            raise KubeApiError(f"{method} {path}: cannot reach the API server at {self.host}: {error}") from None
        if status >= 400:
            reason, message = "", data.decode(errors="replace")[:300]
            try:
                status_obj = json.loads(data)
                reason, message = status_obj.get("reason", ""), status_obj.get("message", message)
            except ValueError:
                pass
            raise KubeApiError(f"{method} {path}: {status} {reason}: {message}", status=status, reason=reason)
        if raw:
            return data
        return json.loads(data) if data else {}

    # -- objects --------------------------------------------------------------------------------------------

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> Obj:
        result: Obj = self.request("GET", resource.path(namespace, name))
        return result

    def get_or_none(self, resource: Resource, name: str, namespace: str | None = None) -> Obj | None:
        try:
            return self.get(resource, name, namespace)
        except KubeApiError as error:
            if error.status == 404:
                return None
            raise

    def list(self, resource: Resource, namespace: str | None = None, *, label_selector: str | None = None) -> list[Obj]:
        query = {"labelSelector": label_selector} if label_selector else None
        result = self.request("GET", resource.path(namespace), query=query)
        items: list[Obj] = result.get("items", [])
        return items

    def create(self, resource: Resource, body: Obj, namespace: str | None = None) -> Obj:
        payload = {"apiVersion": resource.api_version, "kind": resource.kind, **body}
        result: Obj = self.request("POST", resource.path(namespace), body=payload)
        return result

    def patch(
        self,
        resource: Resource,
        name: str,
        patch: Obj,
        namespace: str | None = None,
        *,
        strategy: PatchStrategy = "merge",
    ) -> Obj:
        result: Obj = self.request(
            "PATCH", resource.path(namespace, name), body=patch, content_type=_CONTENT_TYPES[strategy]
        )
        return result

    def delete(
        self,
        resource: Resource,
        name: str,
        namespace: str | None = None,
        *,
        missing_ok: bool = True,
        propagation: str = "Background",
        grace_period_s: int | None = None,
    ) -> bool:
        """Delete; returns False when it was already gone (and ``missing_ok``)."""
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        if grace_period_s is not None:
            options["gracePeriodSeconds"] = grace_period_s
        try:
            self.request("DELETE", resource.path(namespace, name), body=options)
        except KubeApiError as error:
            if error.status == 404 and missing_ok:
                return False
            raise
        return True

    def can_i(
        self, verb: str, resource: str, *, group: str = "", namespace: str | None = None, subresource: str = ""
    ) -> bool:
        """A SelfSubjectAccessReview: may the current user ``verb`` the ``resource``?"""
        attributes: dict[str, str] = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attributes["namespace"] = namespace
        if subresource:
            attributes["subresource"] = subresource
        review = self.create(r.SELF_SUBJECT_ACCESS_REVIEWS, {"spec": {"resourceAttributes": attributes}})
        return bool(review.get("status", {}).get("allowed", False))

    def proxy(
        self,
        method: str,
        kind: Literal["services", "pods"],
        namespace: str,
        name: str,
        port: int | str,
        path: str,
        *,
        query: dict[str, str] | None = None,
    ) -> bytes:
        """An HTTP request to a service or pod through the API server's proxy (no port-forward, no ingress)."""
        target = quote(f"{name}:{port}", safe=":")
        api_path = f"/api/v1/namespaces/{quote(namespace, safe='')}/{kind}/{target}/proxy/{path.lstrip('/')}"
        data: bytes = self.request(method, api_path, query=query, raw=True)
        return data

    # -- waits ----------------------------------------------------------------------------------------------

    def wait_for(
        self, description: str, check: Callable[[], T | None], *, timeout_s: float, interval_s: float = 2.0
    ) -> T:
        """Poll ``check`` until it returns something other than None; :class:`WaitTimeoutError` after ``timeout_s``."""
        deadline = self._clock() + timeout_s
        last_error: str = ""
        while True:
            try:
                value = check()
            except KubeApiError as error:
                value, last_error = None, str(error)
            if value is not None:
                return value
            remaining = deadline - self._clock()
            if remaining <= 0:
                suffix = f" (last error: {last_error})" if last_error else ""
                raise WaitTimeoutError(f"gave up waiting for {description} after {timeout_s:g}s{suffix}")
            self._sleep(min(interval_s, remaining))

    def wait_workload_ready(
        self, resource: Resource, namespace: str, name: str, *, timeout_s: float, interval_s: float = 2.0
    ) -> Obj:
        """Wait until a Deployment/StatefulSet/DaemonSet has every desired replica updated and available."""

        def ready() -> Obj | None:
            obj = self.get(resource, name, namespace)
            return obj if workload_ready(obj) else None

        return self.wait_for(
            f"{resource.kind} {namespace}/{name} to be ready", ready, timeout_s=timeout_s, interval_s=interval_s
        )

    def wait_node_ready(self, name: str, *, ready: bool, timeout_s: float, interval_s: float = 2.0) -> Obj:
        """Wait until node ``name`` reports ``Ready`` True (``ready``) or anything else (not ``ready``)."""

        def check() -> Obj | None:
            node = self.get(r.NODES, name)
            return node if node_ready(node) == ready else None

        state = "Ready" if ready else "NotReady"
        return self.wait_for(f"node {name} to be {state}", check, timeout_s=timeout_s, interval_s=interval_s)

    def wait_gone(
        self,
        resource: Resource,
        name: str,
        namespace: str | None = None,
        *,
        timeout_s: float,
        interval_s: float = 1.0,
    ) -> None:
        def gone() -> bool | None:
            return True if self.get_or_none(resource, name, namespace) is None else None

        self.wait_for(f"{resource.kind} {name} to be deleted", gone, timeout_s=timeout_s, interval_s=interval_s)


def workload_ready(obj: Obj) -> bool:
    """Whether a workload object has all desired replicas updated and available (per its kind's status)."""
    spec, status = obj.get("spec", {}), obj.get("status", {})
    meta = obj.get("metadata", {})
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return False
    if obj.get("kind") == "DaemonSet":
        desired = status.get("desiredNumberScheduled", 0)
        return bool(status.get("numberAvailable", 0) == desired and status.get("updatedNumberScheduled", 0) == desired)
    desired = spec.get("replicas", 1)
    available = status.get("availableReplicas", status.get("readyReplicas", 0)) or 0
    return bool(available >= desired and (status.get("updatedReplicas", 0) or 0) >= desired)


def node_ready(node: Obj) -> bool:
    for condition in node.get("status", {}).get("conditions", []):
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def pod_ready(pod: Obj) -> bool:
    for condition in pod.get("status", {}).get("conditions", []):
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def selector_string(match_labels: dict[str, str]) -> str:
    """``{"app": "x", "tier": "y"}`` -> ``app=x,tier=y`` for a ``labelSelector`` query."""
    return ",".join(f"{key}={value}" for key, value in sorted(match_labels.items()))
