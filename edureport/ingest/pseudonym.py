"""Keyed pseudonyms (keyed BLAKE2b, a MAC) that replace names and ID numbers after matching."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from edureport.ingest.normalize import expand, per_unique_coded
from edureport.keys import KEY_ENV, KEY_FILE_ENV, key, key_file, key_id

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "key", "key_file", "key_id", "mac", "pseudonyms"]

DIGEST_BYTES = 8  # 16 hex characters


def mac(kind: str) -> Any:
    """The keyed BLAKE2b (RFC 7693 keyed mode, a MAC) that pseudonymises values of ``kind``.

    The kind is BLAKE2b's personalisation string (``person``, at most 16 bytes), so equal values
    of different kinds (an ID number, a certificate number) get unrelated pseudonyms. A key
    longer than BLAKE2b's 64-byte limit is hashed to 64 bytes first.
    """
    k = key()
    if len(k) > hashlib.blake2b.MAX_KEY_SIZE:
        k = hashlib.blake2b(k).digest()
    person = kind.encode()
    if len(person) > hashlib.blake2b.PERSON_SIZE:
        raise ValueError(f"pseudonym kind longer than 16 bytes: {kind!r}")
    return hashlib.blake2b(key=k, digest_size=DIGEST_BYTES, person=person)


def pseudonyms(kind: str, values: Any, codes: np.ndarray | None = None) -> pd.Series:
    """Pseudonyms for a whole column (a ``str`` Series): 16 hex characters of keyed BLAKE2b, one
    per distinct value (a copy of the keyed state, then the value: bench B2 has a million
    people).

    With ``codes``, ``values`` are the column's distinct values already found and ``codes``
    each row's (-1 for a blank cell, pseudonymised as ``None`` is).
    """
    keyed = mac(kind).copy

    def one(value: Any) -> str:
        h = keyed()
        h.update(str(value).encode())
        return h.hexdigest()

    if codes is None:
        table, codes = per_unique_coded(values, one)
    else:
        values = np.asarray(values, dtype=object)  # (iterating Arrow text makes each str slowly)
        table = np.array([*map(one, values.tolist()), one(None)], dtype=object)
    return expand(table, codes, "str")
