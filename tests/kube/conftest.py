"""Fixtures of the Kubernetes tests: the fake API server and a populated world (see ``kube_world``)."""

from kube_world import world

__all__ = ["world"]
