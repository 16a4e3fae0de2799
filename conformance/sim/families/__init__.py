"""The metric families each exporter serves for the cluster's state, one module per exporter."""
