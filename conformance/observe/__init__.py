"""Where a live scenario is judged, whatever ran it: the twin, kind or an existing cluster.

A backend starts a world and injects faults; everything after that is here and shared: the sources of alerts and
notifications (:mod:`.sources`), attribution of an alert instance to its scenario run (:mod:`.attribution`), the
watcher that turns what the sources show into timelines (:mod:`.watch`), the engine that runs a wave through its
healthy period, fault, hold, revert and resolution (:mod:`.engine`), the expectation of each run
(:mod:`.expectations`) and the verdict (:mod:`.verdict`).
"""
