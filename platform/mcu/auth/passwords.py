"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

# `PASSWORD_HASHING = "fast"` (the test suite's setting) takes Argon2id's smallest parameters:
# the suite makes hundreds of accounts, at about a tenth of a second each with the real ones, and
# the code around the hash is the same. A hash records its parameters, so either verifies any.
_HASHERS = {
    "standard": PasswordHasher(),
    "fast": PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
}


def _hasher() -> PasswordHasher:
    setting = current_app.config.get("PASSWORD_HASHING", "standard") if has_app_context() else "standard"
    return _HASHERS[setting]


MIN_LENGTH = 10


class WeakPassword(ValueError):
    pass


def hash_password(plain: str) -> str:
    if len(plain) < MIN_LENGTH:
        raise WeakPassword(f"пароль короче {MIN_LENGTH} символов")
    return _hasher().hash(plain)


def verify_password(stored: str | None, plain: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher().verify(stored, plain)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)


def generate_password() -> str:
    """A password to hand to a person once (CLI, demo users): 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


# Verifying against a dummy hash when the login is unknown keeps the response time the same, so
# timing does not tell which logins exist.
DUMMY_HASH = _HASHERS["standard"].hash(secrets.token_urlsafe(16))
