"""The live twin (depth 5): real Prometheus and Alertmanager on loopback, fed by the simulated cluster
(:mod:`conformance.sim`) over HTTP, receivers re-pointed at a capture webhook, durations time-scaled. It starts
the world and injects faults; :mod:`conformance.observe` judges."""
