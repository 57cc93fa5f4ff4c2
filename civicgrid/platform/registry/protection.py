"""Personal data at rest: encryption, blind indexes and masking.

ID numbers and phones are stored encrypted (AES-GCM, a fresh nonce per value)
beside an HMAC-SHA256 blind index, so exact search and matching work without
decrypting. Keys come from ``CIVICGRID_DATA_KEY`` (base64, 32 bytes); without it
they are derived from ``SECRET_KEY`` (development only: production requires it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

NONCE_BYTES = 12


@lru_cache(maxsize=1)
def _keys() -> tuple[bytes, bytes]:
    configured = getattr(settings, "CIVICGRID_DATA_KEY", "")
    master = base64.b64decode(configured) if configured else hashlib.sha256(settings.SECRET_KEY.encode()).digest()

    def derive(purpose: bytes) -> bytes:
        return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(master)

    return derive(b"civicgrid field encryption"), derive(b"civicgrid blind index")


def encrypt(value: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_keys()[0]).encrypt(nonce, value.encode(), None)


def decrypt(token: bytes) -> str:
    token = bytes(token)
    return AESGCM(_keys()[0]).decrypt(token[:NONCE_BYTES], token[NONCE_BYTES:], None).decode()


def blind_index(value: str, kind: str) -> str:
    """Deterministic, keyed, one-way: equal values of one kind give equal indexes."""
    return hmac.new(_keys()[1], f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """330102199001011234 → 330102********1234"""
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}" if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678"""
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}" if len(value) > 7 else "*" * len(value)


def mask_name(value: str) -> str:
    """张三丰 → 张**: used where a name alone would identify (exports of sensitive kinds)."""
    return value[:1] + "*" * (len(value) - 1) if value else value
