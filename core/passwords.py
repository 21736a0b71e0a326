"""Password hashing: argon2id with parameters at or above OWASP's minimum.

``needs_rehash`` lets sign-in upgrade old hashes when the parameters change.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP: argon2id, m >= 19 MiB, t >= 2, p = 1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)
MIN_LENGTH = 8


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    return hasher.hash(password)


def verify(stored: str | None, password: str, hasher: PasswordHasher = HASHER) -> bool:
    if not stored:
        return False
    try:
        return hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, hasher: PasswordHasher = HASHER) -> bool:
    try:
        return hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True
