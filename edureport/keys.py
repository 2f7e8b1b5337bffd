"""The pseudonym key: where it comes from, how strong it must be, and the id that names it.

Kept apart from :mod:`edureport.ingest.pseudonym` so that the runner can fingerprint a run (which
includes the key's id) without importing pandas.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
from functools import cache
from pathlib import Path

from edureport.errors import UsageError
from edureport.paths import STATE_DIR

KEY_ENV = "EDUREPORT_PSEUDONYM_KEY"
KEY_FILE_ENV = "EDUREPORT_KEY_FILE"
MIN_KEY_BYTES = 16  # ID numbers are few enough to try them all against a short key
MIN_KEY_BITS = 64  # a floor on the key's estimated entropy: "aaaa…" or "1234…" is refused


def key_file() -> Path:
    """Where the locally generated key is kept (git-ignored), unless the environment names one."""
    return Path(os.environ.get(KEY_FILE_ENV) or STATE_DIR / "pseudonym.key")


@cache
def _key(env_key: str | None, path: Path) -> bytes:
    if env_key:
        return _checked(env_key.encode("utf-8"), KEY_ENV)
    if not path.exists():
        _generate(path)
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        raise UsageError(
            f"无法读取假名密钥文件 cannot read key file {path}: {exc.strerror}"
        ) from None
    return _checked(data, f"密钥文件 key file {path}")


def _checked(key: bytes, where: str) -> bytes:
    """The key if it is long and varied enough (the message never shows the key)."""
    if len(key) < MIN_KEY_BYTES or _entropy_bits(key) < MIN_KEY_BITS:
        raise UsageError(
            f"{where} 中的假名密钥太短或太简单（{len(key)}字节，估计熵约"
            f"{_entropy_bits(key):.0f}位；至少{MIN_KEY_BYTES}字节、约{MIN_KEY_BITS}位）："
            '请用随机生成的密钥，例如 python -c "import secrets; print(secrets.token_hex(32))"'
            " pseudonym key too short or too simple"
        )
    return key


def _entropy_bits(key: bytes) -> float:
    """An estimate of a key's entropy: its length times the Shannon entropy of its bytes.

    Only a floor against keys anyone could guess ("aaaa…", a repeated word); no estimate can
    tell a random key from a memorable one, so generated keys are the rule.
    """
    if not key:
        return 0.0
    counts = [key.count(b) for b in set(key)]
    per_byte = -sum(c / len(key) * math.log2(c / len(key)) for c in counts)
    return per_byte * len(key)


def _generate(path: Path) -> None:
    """Write a new random key: beside, synced, then linked into place (concurrent first runs
    agree on one key; a crash leaves no empty or half-written key file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def key_id() -> str:
    """A short hash that names the key (for run records and fingerprints), never the key."""
    return hashlib.sha256(b"edureport key id:" + key()).hexdigest()[:16]


def key() -> bytes:
    """The pseudonym key: from the environment, else from (or first created in) the key file."""
    return _key(os.environ.get(KEY_ENV) or None, key_file())
