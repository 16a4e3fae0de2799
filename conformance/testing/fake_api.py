"""A fake Kubernetes API server over HTTP on 127.0.0.1, for tests that point the official client at it.

Like httpx's ``MockTransport``, it is shipped in the library so users can test their own faults without a
cluster::

    with FakeKubeApi() as api:
        api.add(node("worker-1"))
        client = KubeClient.from_kubeconfig(api.write_kubeconfig(tmp_path / "kubeconfig"))
        ...
        assert api.writes == []

It keeps objects in memory and behaves like the real API server for the calls the suite makes: GET, LIST (with
label selectors), CREATE (409 on a duplicate, 404 in a missing namespace), PATCH (JSON merge patch and strategic
merge patch), DELETE (deleting a namespace deletes what is in it), ``SelfSubjectAccessReview`` answered from a
configurable set of denials, and the service/pod proxy answered by registered handlers. Every request is logged
in :attr:`FakeKubeApi.calls`. ``pods/exec`` is faked one level up, by :class:`conformance.kube.exec.FakeExecutor`.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from conformance.kube import resources as r
from conformance.kube.patching import merge_patch, strategic_merge_patch
from conformance.kube.resources import Resource

Obj = dict[str, Any]
ProxyHandler = Callable[[str, str, bytes], tuple[int, bytes]]
Reactor = Callable[["FakeKubeApi", str, Resource, Obj], None]
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Call:
    """One request the fake received. ``body`` is the decoded JSON body (None when there was none)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    content_type: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Denial:
    """An access review answered ``allowed: false``; ``None`` fields match anything."""

    verb: str | None = None
    resource: str | None = None
    namespace: str | None = None
    group: str | None = None
    subresource: str | None = None

    def matches(self, attributes: dict[str, str]) -> bool:
        for field_name in ("verb", "resource", "namespace", "group", "subresource"):
            wanted = getattr(self, field_name)
            if wanted is not None and attributes.get(field_name, "") != wanted:
                return False
        return True


class _ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class FakeKubeApi:
    """The fake server. Use as a context manager, or call :meth:`start` and :meth:`close`."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], Obj] = {}
        self.calls: list[Call] = []
        self.denials: list[Denial] = []
        self.proxy_handlers: dict[tuple[str, str, str, str], ProxyHandler] = {}
        self.reactors: list[Reactor] = []
        self.failures: list[tuple[str, str, int]] = []
        self._lock = threading.RLock()
        self._versions = itertools.count(1000)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> FakeKubeApi:
        api = self

        class Handler(_Handler):
            fake = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-kube-api", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeKubeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake API server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def write_kubeconfig(self, path: Path, *, context: str = "fake") -> Path:
        """A kubeconfig whose ``context`` points at this server, for the official client."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {"token": "fake-token"}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
            "current-context": context,
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    # -- test controls --------------------------------------------------------------------------------------

    def add(self, obj: Obj, resource: Resource | None = None) -> Obj:
        """Put an object in the store without logging a call (the cluster as it was before the run)."""
        res = resource or r.by_kind(obj["kind"])
        with self._lock:
            stored = self._fill_metadata(res, copy.deepcopy(obj), obj.get("metadata", {}).get("namespace"))
            self.objects[self._key(res, stored["metadata"].get("namespace"), stored["metadata"]["name"])] = stored
            return copy.deepcopy(stored)

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> Obj | None:
        with self._lock:
            found = self.objects.get(self._key(resource, namespace, name))
            return copy.deepcopy(found) if found is not None else None

    def update(self, resource: Resource, name: str, namespace: str | None, change: Callable[[Obj], None]) -> None:
        """Change a stored object in place (a controller's doing, e.g. a status update), unlogged."""
        with self._lock:
            change(self.objects[self._key(resource, namespace, name)])

    def items(self, resource: Resource, namespace: str | None = None) -> list[Obj]:
        with self._lock:
            return [
                copy.deepcopy(obj)
                for (group, plural, ns, _), obj in sorted(self.objects.items())
                if (group, plural) == (resource.group, resource.plural) and (namespace is None or ns == namespace)
            ]

    def deny(
        self,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        group: str | None = None,
        subresource: str | None = None,
    ) -> None:
        """Answer matching SelfSubjectAccessReviews with ``allowed: false`` (and the real requests with 403)."""
        self.denials.append(Denial(verb, resource, namespace, group, subresource))

    def fail(self, method: str, path_contains: str, status: int = 500) -> None:
        """Answer the next ``method`` request whose path contains ``path_contains`` with ``status``."""
        self.failures.append((method, path_contains, status))

    def on_proxy(self, kind: str, namespace: str, name: str, port: int | str, handler: ProxyHandler) -> None:
        """Answer ``/api/v1/namespaces/<ns>/<kind>/<name>:<port>/proxy/<path>`` with ``handler(method, path, body)``
        (``path`` keeps its query string, as the real proxy passes it on)."""
        self.proxy_handlers[(kind, namespace, name, str(port))] = handler

    @property
    def writes(self) -> list[Call]:
        """Every request that could change state (access reviews excluded: they change nothing)."""
        return [c for c in self.calls if c.method in WRITE_METHODS and "selfsubjectaccessreviews" not in c.path]

    def calls_to(self, method: str, path_contains: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and path_contains in c.path]

    # -- request handling -----------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: bytes, content_type: str) -> tuple[int, bytes, str]:
        split = urlsplit(raw_path)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        decoded: Any = None
        if body and "json" in content_type:
            try:
                decoded = json.loads(body)
            except ValueError:
                return self._status(_ApiError(400, "BadRequest", "body is not JSON"))
        with self._lock:
            self.calls.append(Call(method, split.path, query, decoded, content_type))
        try:
            for index, (fail_method, fragment, status) in enumerate(self.failures):
                if fail_method == method and fragment in split.path:
                    del self.failures[index]
                    raise _ApiError(status, HTTPStatus(status).phrase.replace(" ", ""), "injected failure")
            proxied = self._proxy(method, split.path + (f"?{split.query}" if split.query else ""), body)
            if proxied is not None:
                return proxied[0], proxied[1], "application/octet-stream"
            result = self._dispatch(method, split.path, query, decoded, content_type)
        except _ApiError as error:
            return self._status(error)
        return 200 if method != "POST" else 201, json.dumps(result).encode(), "application/json"

    def _status(self, error: _ApiError) -> tuple[int, bytes, str]:
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": error.message,
            "reason": error.reason,
            "code": error.code,
        }
        return error.code, json.dumps(status).encode(), "application/json"

    def _proxy(self, method: str, path: str, body: bytes) -> tuple[int, bytes] | None:
        path, _, query = path.partition("?")
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) >= 7 and parts[:3] == ["api", "v1", "namespaces"] and parts[6] == "proxy":
            namespace, kind, target = parts[3], parts[4], parts[5]
            name, _, port = target.partition(":")
            rest = "/" + "/".join(parts[7:]) + (f"?{query}" if query else "")
            handler = self.proxy_handlers.get((kind, namespace, name, port))
            if handler is None:
                raise _ApiError(503, "ServiceUnavailable", f"no endpoints available for {kind} {name!r}")
            return handler(method, rest, body)
        return None

    def _parse(self, path: str) -> tuple[Resource, str | None, str | None, str | None]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise _ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        namespace: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        elif len(rest) == 2 and rest[0] == "namespaces":
            return r.NAMESPACES, None, rest[1], None
        if not rest:
            raise _ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        plural, name = rest[0], rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        for resource in r.ALL:
            if (resource.group, resource.version, resource.plural) == (group, version, plural):
                return resource, namespace, name, subresource
        raise _ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")

    def _dispatch(self, method: str, path: str, query: dict[str, str], body: Any, content_type: str) -> Obj:
        resource, namespace, name, _sub = self._parse(path)
        with self._lock:
            if resource is r.SELF_SUBJECT_ACCESS_REVIEWS and method == "POST":
                return self._review(body)
            verb = {
                "GET": "get" if name else "list",
                "POST": "create",
                "PATCH": "patch",
                "DELETE": "delete",
                "PUT": "update",
            }[method]
            self._authorize(verb, resource, namespace)
            if method == "GET" and name is None:
                return self._list(resource, namespace, query.get("labelSelector", ""))
            if method == "GET":
                return copy.deepcopy(self._stored(resource, namespace, name))
            if method == "POST":
                return self._create(resource, namespace, body)
            if method == "PATCH" and name is not None:
                return self._patch(resource, namespace, name, body, content_type)
            if method == "DELETE" and name is not None:
                return self._delete(resource, namespace, name)
        raise _ApiError(405, "MethodNotAllowed", f"{method} is not supported on {path}")

    def _authorize(self, verb: str, resource: Resource, namespace: str | None) -> None:
        attributes = {"verb": verb, "resource": resource.plural, "namespace": namespace or "", "group": resource.group}
        if any(denial.matches(attributes) for denial in self.denials):
            raise _ApiError(403, "Forbidden", f"{verb} {resource.plural} is forbidden in {namespace or 'the cluster'}")

    def _review(self, body: Any) -> Obj:
        attributes = dict((body or {}).get("spec", {}).get("resourceAttributes", {}))
        allowed = not any(denial.matches(attributes) for denial in self.denials)
        review = copy.deepcopy(body or {})
        review["status"] = {"allowed": allowed}
        return review

    def _key(self, resource: Resource, namespace: str | None, name: str) -> tuple[str, str, str, str]:
        return resource.group, resource.plural, (namespace or "") if resource.namespaced else "", name

    def _stored(self, resource: Resource, namespace: str | None, name: str | None) -> Obj:
        found = self.objects.get(self._key(resource, namespace, name or ""))
        if found is None:
            raise _ApiError(404, "NotFound", f'{resource.plural} "{name}" not found')
        return found

    def _list(self, resource: Resource, namespace: str | None, selector: str) -> Obj:
        matches = _selector(selector)
        items = [
            copy.deepcopy(obj)
            for (group, plural, ns, _), obj in sorted(self.objects.items())
            if (group, plural) == (resource.group, resource.plural)
            and (namespace is None or ns == namespace)
            and matches(obj.get("metadata", {}).get("labels", {}) or {})
        ]
        return {
            "kind": f"{resource.kind}List",
            "apiVersion": resource.api_version,
            "items": items,
            "metadata": {"resourceVersion": str(next(self._versions))},
        }

    def _fill_metadata(self, resource: Resource, obj: Obj, namespace: str | None) -> Obj:
        meta = obj.setdefault("metadata", {})
        if "name" not in meta and "generateName" in meta:
            meta["name"] = f"{meta['generateName']}{next(self._versions):05d}"
        if "name" not in meta:
            raise _ApiError(422, "Invalid", "metadata.name: Required value")
        obj.setdefault("apiVersion", resource.api_version)
        obj.setdefault("kind", resource.kind)
        if resource.namespaced:
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        meta.setdefault("uid", f"uid-{next(self._versions)}")
        meta.setdefault("creationTimestamp", "2024-01-01T00:00:00Z")
        meta.setdefault("generation", 1)
        meta["resourceVersion"] = str(next(self._versions))
        if resource is r.NAMESPACES:
            obj.setdefault("status", {"phase": "Active"})
        return obj

    def _create(self, resource: Resource, namespace: str | None, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise _ApiError(400, "BadRequest", "the body of a create must be an object")
        obj = copy.deepcopy(body)
        if resource.namespaced:
            ns = namespace or obj.get("metadata", {}).get("namespace") or "default"
            if (r.NAMESPACES.group, r.NAMESPACES.plural, "", ns) not in self.objects:
                raise _ApiError(404, "NotFound", f'namespaces "{ns}" not found')
            namespace = ns
        obj = self._fill_metadata(resource, obj, namespace)
        key = self._key(resource, namespace, obj["metadata"]["name"])
        if key in self.objects:
            raise _ApiError(409, "AlreadyExists", f'{resource.plural} "{obj["metadata"]["name"]}" already exists')
        self.objects[key] = obj
        self._react("create", resource, obj)
        return copy.deepcopy(obj)

    def _patch(self, resource: Resource, namespace: str | None, name: str, body: Any, content_type: str) -> Obj:
        current = self._stored(resource, namespace, name)
        if content_type.startswith("application/merge-patch+json"):
            patched = merge_patch(current, body)
        elif content_type.startswith("application/strategic-merge-patch+json"):
            if resource.group == "monitoring.coreos.com":
                raise _ApiError(
                    415, "UnsupportedMediaType", "strategic merge patch is not supported for custom resources"
                )
            patched = strategic_merge_patch(current, body)
        else:
            raise _ApiError(415, "UnsupportedMediaType", f"the fake does not support {content_type}")
        meta = patched.setdefault("metadata", {})
        if patched.get("spec") != current.get("spec"):
            meta["generation"] = int(current.get("metadata", {}).get("generation", 1)) + 1
        meta["resourceVersion"] = str(next(self._versions))
        self.objects[self._key(resource, namespace, name)] = patched
        self._react("patch", resource, patched)
        return copy.deepcopy(patched)

    def _delete(self, resource: Resource, namespace: str | None, name: str) -> Obj:
        obj = self._stored(resource, namespace, name)
        del self.objects[self._key(resource, namespace, name)]
        if resource is r.NAMESPACES:
            for key in [k for k in self.objects if k[2] == name]:
                del self.objects[key]
        self._react("delete", resource, obj)
        return {"kind": "Status", "apiVersion": "v1", "status": "Success"}

    def _react(self, event: str, resource: Resource, obj: Obj) -> None:
        for reactor in self.reactors:
            reactor(self, event, resource, obj)


def _selector(text: str) -> Callable[[dict[str, str]], bool]:
    """Equality and existence label selectors: ``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``, comma-joined."""
    terms: list[tuple[str, str, str]] = []
    for term in filter(None, (t.strip() for t in text.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            terms.append(("!=", key, value))
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            terms.append(("=", key, value))
        elif term.startswith("!"):
            terms.append(("!", term[1:], ""))
        else:
            terms.append(("exists", term, ""))

    def test(labels: dict[str, str], op: str, key: str, value: str) -> bool:
        if op == "!=":
            return labels.get(key) != value
        if op == "=":
            return labels.get(key) == value
        if op == "!":
            return key not in labels
        return key in labels

    return lambda labels: all(test(labels, *term) for term in terms)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeKubeApi
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header and body go out in separate writes: no 40 ms delayed-ACK stalls

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, content_type = self.fake.handle(
            self.command, self.path, body, self.headers.get("Content-Type", "")
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve  # noqa: N815 (http.server naming)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the calls are in :attr:`FakeKubeApi.calls`."""
