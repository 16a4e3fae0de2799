"""The conformance tests ``pytest --profile NAME`` runs; shipped in the package so they run from anywhere."""
