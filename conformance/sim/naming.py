"""Stable, seed-determined names and identifiers: pod suffixes, template hashes, UIDs, container IDs.

Kubernetes draws these at random; here they are a hash of the seed and what the object is, so the same seed
always gives the same cluster, whatever order objects are created in.
"""

from __future__ import annotations

import hashlib
import uuid

# The alphabet Kubernetes uses for generated names (k8s.io/apimachinery/pkg/util/rand): no vowels, no 0/1/3.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _digest(seed: int, *parts: object) -> bytes:
    text = "\x1f".join([str(seed), *(str(part) for part in parts)])
    return hashlib.sha256(text.encode()).digest()


def name_suffix(seed: int, *parts: object, length: int = 5) -> str:
    """A generated-name suffix such as ``x7k2p`` (5 characters for pods, 10 for a ReplicaSet hash)."""
    digest = _digest(seed, "suffix", *parts)
    return "".join(_NAME_ALPHABET[b % len(_NAME_ALPHABET)] for b in digest[:length])


def object_uid(seed: int, *parts: object) -> str:
    """A UUID-shaped object UID."""
    return str(uuid.UUID(bytes=_digest(seed, "uid", *parts)[:16], version=4))


def hex_id(seed: int, *parts: object, length: int = 64) -> str:
    """A container-runtime style hexadecimal ID."""
    return hashlib.sha256(_digest(seed, "hex", *parts)).hexdigest()[:length]


def revision_hash(seed: int, *parts: object) -> str:
    """A controller revision / pod-template hash such as ``5d8f9c7b6d``."""
    return name_suffix(seed, "revision", *parts, length=10)
