"""Fixtures of the Kubernetes tests: the fake API server and a populated world (see ``kube_world``)."""

from kube_world import fake_kube_api, fake_kubeconfig, kube_client, world

__all__ = ["fake_kube_api", "fake_kubeconfig", "kube_client", "world"]
