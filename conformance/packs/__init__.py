"""Alert packs: every form the vendors publish, loaded into one model (:mod:`conformance.packs.model`)."""
