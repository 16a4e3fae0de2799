"""The plain data model every layer shares: durations, workloads, scenarios, documented contracts, profiles.

Nothing here imports pytest, the Kubernetes client or any tool wrapper: it is the bottom layer.
"""
