"""Secrets we must be able to read back (a store's client secret), encrypted at rest.

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`, keyed by `DROPWIRE_SECRET_KEY`. Any
string works as a key: HKDF stretches it to a Fernet key. Several comma-separated keys rotate:
the first encrypts, every one decrypts, so old rows stay readable until rewritten.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

MIN_KEY_LENGTH = 16


class EncryptionUnavailable(Exception):
    """No usable DROPWIRE_SECRET_KEY, or a value sealed under a key no longer configured."""


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"dropwire stored secrets"
    ).derive(secret.encode())
    return base64.urlsafe_b64encode(derived)


@lru_cache(maxsize=8)
def _box(keys: str) -> MultiFernet:
    parts = [part.strip() for part in keys.split(",") if part.strip()]
    if not parts or any(len(part) < MIN_KEY_LENGTH for part in parts):
        raise EncryptionUnavailable(
            f"DROPWIRE_SECRET_KEY must be set (each key at least {MIN_KEY_LENGTH} characters)"
        )
    return MultiFernet([Fernet(_fernet_key(part)) for part in parts])


def _configured(key: SecretStr | None) -> MultiFernet:
    if key is None:
        raise EncryptionUnavailable("DROPWIRE_SECRET_KEY is not set; it encrypts stored secrets")
    return _box(key.get_secret_value())


def seal(plain: str, *, key: SecretStr | None) -> str:
    return _configured(key).encrypt(plain.encode()).decode()


def unseal(sealed: str, *, key: SecretStr | None) -> str:
    try:
        return _configured(key).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise EncryptionUnavailable(
            "a stored secret cannot be decrypted with DROPWIRE_SECRET_KEY (was the key changed"
            " without keeping the old one after a comma?)"
        ) from exc
