"""What every automated check shares: its context, its findings, and the registry of check ids."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Result(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class ScopeInfo:
    """What a check needs to know about a published scope."""

    name: str
    tier: str  # status < summary < record
    sensitivity: str  # low | high
    data_owner: str

    @property
    def tier_rank(self) -> int:
        return ("status", "summary", "record").index(self.tier)


class NameIndex(Protocol):
    """Names of listed services, searchable for confusable matches without scanning them all."""

    def similar(self, name: str, *, exclude_service_id: str | None = None) -> list[tuple[str, str]]:
        """(service_id, listed name) pairs confusable with `name`."""
        ...


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may read. Checks are pure: no database, no network, no clock."""

    manifest: Mapping[str, Any]
    service_id: str
    scopes: Mapping[str, ScopeInfo]
    names: NameIndex
    sandbox: bool = False


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem a check found: where (a JSON pointer into the manifest), what, how to fix it."""

    pointer: str
    message: str
    fix: str


@dataclass(frozen=True)
class Check:
    """An automated check; guidelines name it by `id`."""

    id: str
    title: str
    description: str
    run: Callable[[CheckContext], Sequence[Issue]]
    applies: Callable[[CheckContext], bool] = field(default=lambda ctx: True)


REGISTRY: dict[str, Check] = {}


def register(check: Check) -> Check:
    if check.id in REGISTRY:
        raise ValueError(f"check {check.id} registered twice")
    REGISTRY[check.id] = check
    return check
