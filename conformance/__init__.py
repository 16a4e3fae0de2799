"""alert-conformance: prove an alerting stack does what its vendor documents.

The engine (this package) is usable without pytest; :mod:`conformance.plugin` is the thin pytest adapter.
"""

__version__ = "0.1.0"
