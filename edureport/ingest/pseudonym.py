"""Keyed pseudonyms (HMAC-SHA256) that replace names and ID numbers after matching."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from edureport.ingest.normalize import expand, per_unique_coded
from edureport.keys import KEY_ENV, KEY_FILE_ENV, key, key_file, key_id

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "key", "key_file", "key_id", "pseudonyms"]


def pseudonyms(kind: str, values: Any) -> pd.Series:
    """Pseudonyms for a whole column (a ``str`` Series), one HMAC-SHA256 per distinct value.

    The HMAC is computed from the key's inner and outer pads, hashed once (RFC 2104, as
    ``hmac.new`` does), so each value costs two ``sha256`` copies instead of a new HMAC object:
    a province-size ledger has a million people (bench B2).
    """
    k = key()
    k = (hashlib.sha256(k).digest() if len(k) > _BLOCK else k).ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in k) + f"{kind}:".encode())
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in k))

    def one(value: Any) -> str:
        i = inner.copy()
        i.update(str(value).encode())
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()[:16]

    table, codes = per_unique_coded(values, one)
    return expand(table, codes, "str")


_BLOCK = 64  # SHA-256's block size, in bytes
