"""Live backends: where the scenarios of depths 5 and 6 really happen (twin, kind, existing cluster)."""
