"""Keyed pseudonyms (HMAC-SHA256) that replace names and ID numbers after matching."""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import UsageError
from .normalize import expand, per_unique_coded
from .paths import STATE_DIR

KEY_ENV = "EDUREPORT_PSEUDONYM_KEY"
KEY_FILE_ENV = "EDUREPORT_KEY_FILE"
MIN_KEY_CHARS = 16  # ID numbers are few enough to try them all against a short key


def key_file() -> Path:
    """Where the locally generated key is kept (git-ignored), unless the environment names one."""
    return Path(os.environ.get(KEY_FILE_ENV) or STATE_DIR / "pseudonym.key")


@cache
def _key(env_key: str | None, path: Path) -> bytes:
    if env_key:
        if len(env_key) < MIN_KEY_CHARS:  # the message never shows the key
            raise UsageError(
                f"{KEY_ENV} 太短（{len(env_key)}个字符，至少{MIN_KEY_CHARS}个）："
                "请用随机生成的长密钥 pseudonym key too short"
            )
        return env_key.encode("utf-8")
    if not path.exists():
        # Write beside, then link: concurrent first runs agree on one key, none reads a half file.
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="ascii").strip().encode("ascii")


def key() -> bytes:
    """The pseudonym key: from the environment, else from (or first created in) the key file."""
    return _key(os.environ.get(KEY_ENV) or None, key_file())


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
