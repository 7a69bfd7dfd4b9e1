"""Password hashing (argon2id via argon2-cffi) and the minimum strength rule.

Hashing is deliberately expensive (tens to hundreds of milliseconds of CPU, on several cores). Callers reach it in
a worker thread (`Database.run`), never on the event loop; the hash itself runs in a small pool of its own threads
(`HASH_CONCURRENCY` at most) at a lower CPU priority (nice +10 on Linux, where a thread's priority is its own), so a
crowd of failing logins queues behind each other instead of taking the cores from every other request.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import string
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.errors import FieldError, InvalidInput

__all__ = [
    "HASH_CONCURRENCY",
    "MIN_LENGTH",
    "check_strength",
    "generate_password",
    "hash_password",
    "needs_rehash",
    "strength_problems",
    "use_hasher",
    "verify_password",
]

MIN_LENGTH = 10
_HASHER = PasswordHasher()
HASH_CONCURRENCY = max(1, (os.cpu_count() or 2) // 2)
HASH_NICENESS = 10


def _lower_priority() -> None:
    # Linux: PRIO_PROCESS with a thread id sets that thread's priority (argon2's own threads inherit it);
    # elsewhere the hash keeps the normal priority, still off the event loop and bounded.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


_HASHING = ThreadPoolExecutor(max_workers=HASH_CONCURRENCY, thread_name_prefix="argon2",
                              initializer=_lower_priority)
# A dummy hash, so a login for an unknown user costs as much as one for a known user (no timing oracle).
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))

_COMMON = {
    "password", "password1", "password123", "passw0rd", "qwerty", "qwertyuiop", "12345678", "123456789",
    "1234567890", "abc123456", "admin123", "administrator", "iloveyou", "welcome1", "111111111", "000000000",
    "a123456789", "aa123456789", "woaini1314", "zxcvbnm123", "1qaz2wsx3edc", "qwe123456", "p@ssw0rd",
}


def strength_problems(password: str, *, username: str | None = None) -> list[str]:
    """What is wrong with `password`, in words for people; empty when it is acceptable."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"至少 {MIN_LENGTH} 个字符（当前 {len(password)} 个）")
    classes = sum([
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ])
    if classes < 3:
        problems.append("需包含小写字母、大写字母、数字、符号中的至少三类")
    if password.lower() in _COMMON or len(set(password)) <= 3:
        problems.append("过于常见或重复，容易被猜到")
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append("不能包含用户名")
    return problems


def check_strength(password: str, *, username: str | None = None, field: str = "password") -> None:
    problems = strength_problems(password, username=username)
    if problems:
        message = "密码强度不足：" + "；".join(problems) + "。"
        raise InvalidInput(message, field=field, code="weak_password",
                           errors=[FieldError(field, "weak_password", message)])


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash with `hasher` from now on (in this process) and return the one used before.

    There is no setting for it on purpose: production always uses argon2-cffi's default (RFC 9106 low-memory)
    profile. The test suite calls this once with argon2's cheapest profile for the hundreds of users it signs in,
    and the tests about hashing cost switch back to the default for their duration. Verification reads the
    parameters from each stored hash, so hashes made under either profile keep verifying; `needs_rehash` tells a
    hash made under another profile, and signing in upgrades it.
    """
    global _HASHER, _DUMMY_HASH
    previous, _HASHER = _HASHER, hasher
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))
    return previous


def hash_password(password: str) -> str:
    return _HASHING.submit(_HASHER.hash, password).result()


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        ok = _HASHING.submit(_HASHER.verify, password_hash or _DUMMY_HASH, password).result()
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok) and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def generate_password(length: int = 16) -> str:
    """A random password that meets the strength rule (for the first admin and resets)."""
    alphabet = string.ascii_letters + string.digits + "-_.!@#"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if not strength_problems(candidate):
            return candidate
