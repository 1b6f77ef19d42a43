"""Password rules and argon2id hashing (off the event loop: hashing is deliberately slow)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.concurrency import run_in_threadpool

from marketplace.errors import FieldError
from marketplace.settings import Settings

MIN_LENGTH = 12
MAX_LENGTH = 128

# The most common choices that still pass a length rule (NCSC advice: block the obvious,
# don't demand symbols). Compared case-insensitively.
_COMMON = frozenset(
    {
        "123456789012",
        "password1234",
        "passwordpassword",
        "qwertyuiopas",
        "111111111111",
        "000000000000",
        "aaaaaaaaaaaa",
        "abcdefghijkl",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "password123!",
        "qwerty123456",
        "administrator",
        "changeme1234",
        "govstore1234",
        "correcthorsebatterystaple",
    }
)


def password_problems(password: str, *, email: str, pointer: str = "/password") -> list[FieldError]:
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 4:
        problems.append("is too easy to guess; try three random words")
    if email and lowered == email.lower():
        problems.append("must not be your email address")
    return [FieldError(pointer=pointer, detail=p) for p in problems]


class Passwords:
    """argon2id with the configured cost; verify() also runs for unknown accounts (no timing oracle)."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
        )
        self._dummy = self._hasher.hash("not-a-real-password-but-costs-the-same")

    async def hash(self, password: str) -> str:
        return await run_in_threadpool(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(stored_hash or self._dummy, password) and (
                    stored_hash is not None
                )
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await run_in_threadpool(check)
