"""Kubernetes Secrets in a pack: their keys decoded (``stringData`` as written, ``data`` from base64)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from conformance.errors import PackError
from conformance.yamlio import Document

AM_KEYS = ("alertmanager.yaml", "alertmanager.yml")


@dataclass(frozen=True)
class SecretDoc:
    """A Secret of the pack: namespace, name, decoded values and where each key was written."""

    namespace: str
    name: str
    values: dict[str, str]
    document: Document
    key_paths: dict[str, tuple[str, str]] = field(default_factory=dict)

    def alertmanager_key(self) -> str | None:
        """The key holding an Alertmanager config, if the Secret has one."""
        return next((key for key in AM_KEYS if key in self.values), None)


def read_secret(document: Document, default_namespace: str = "default") -> SecretDoc:
    """Decode a Secret document; bad base64 is a :class:`PackError` naming the key's line."""
    data = document.data
    metadata = data.get("metadata") or {}
    values: dict[str, str] = {}
    paths: dict[str, tuple[str, str]] = {}
    encoded = data.get("data") or {}
    for key, value in encoded.items() if isinstance(encoded, dict) else ():
        try:
            values[str(key)] = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise PackError(
                f"Secret data key {key!r} is not base64 of UTF-8 text",
                source=document.source,
                place=document.place(("data", str(key))),
            ) from None
        paths[str(key)] = ("data", str(key))
    plain = data.get("stringData") or {}
    # As in Kubernetes, stringData wins over data for the same key.
    for key, value in plain.items() if isinstance(plain, dict) else ():
        values[str(key)] = "" if value is None else str(value)
        paths[str(key)] = ("stringData", str(key))
    return SecretDoc(
        namespace=str(metadata.get("namespace") or default_namespace),
        name=str(metadata.get("name") or ""),
        values=values,
        document=document,
        key_paths=paths,
    )
