"""Test doubles for users' and our own tests, never used by the engine itself.

* :mod:`.fake_api`: a fake Kubernetes API server on 127.0.0.1 that the official client talks to;
* :mod:`.objects`: builders for the Kubernetes objects tests put into it;
* :mod:`.doubles`: a command runner and a pod executor that record calls and answer from a handler;
* :mod:`.toy`: a toy cluster and profile for driving the twin's pipeline without the full simulated cluster.

The pytest fixtures over them (``fake_kube_api``, ``kube_client`` ...) come with the package through the
``alert_conformance_testing`` pytest plugin (:mod:`conformance_fixtures.testing`).
"""
