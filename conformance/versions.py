"""The one kube-prometheus-stack release the project simulates and installs, and the versions it brings.

The twin's simulated exporters (``conformance.sim``) expose the families and label sets of these versions, and the
Kubernetes backends install this chart release: label semantics change between releases (kube-state-metrics added
``reason`` to ``kube_deployment_status_condition`` in 2.17), so everything follows one pinned release.

Sources: the chart's ``Chart.yaml`` (dependencies) and ``values.yaml`` (image tags) at
prometheus-community/helm-charts tag ``kube-prometheus-stack-88.5.3``. The chart pins no Kubernetes: the simulated
control plane is that of the kind node image below, whose kubeadm picks the CoreDNS and etcd versions.
"""

from __future__ import annotations

CHART = "kube-prometheus-stack"
CHART_VERSION = "88.5.3"

PROMETHEUS_OPERATOR = "v0.93.1"  # the chart's appVersion
PROMETHEUS = "v3.14.0"
ALERTMANAGER = "v0.34.0"
KUBE_STATE_METRICS = "v2.20.0"  # kube-state-metrics chart 8.4.0
NODE_EXPORTER = "v1.12.1"  # prometheus-node-exporter chart 4.56.1

KUBERNETES = "v1.34.0"  # kindest/node:v1.34.0; the kubelet, its cAdvisor and the control plane
COREDNS = "1.12.1"  # kubeadm's CoreDNS for Kubernetes 1.34
ETCD = "3.6.4"  # kubeadm's etcd for Kubernetes 1.34

KERNEL = "6.8.0-45-generic"  # the simulated nodes' kernel (uname, kube_node_info)


def kubernetes_minor() -> str:
    """``34`` for ``v1.34.0``: the ``minor`` label of ``kubernetes_build_info``."""
    return KUBERNETES.lstrip("v").split(".")[1]
