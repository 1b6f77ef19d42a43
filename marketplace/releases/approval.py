"""What an approval hands over: the foundation's contract between review and the capabilities that publish."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from marketplace.releases.models import Release


@dataclass(frozen=True)
class Approval:
    """A completed approval: who decided, what was granted, and the finding per guideline code."""

    decision_id: str
    reviewer_ids: tuple[str, ...]
    kitemarks: tuple[str, ...]
    scopes: tuple[str, ...]
    findings: dict[str, str] = field(default_factory=dict)


# Called inside the approving transaction, with the release already `approved`; the assembly
# installs the hand-over (kitemarks/grants.py publishes, grants and creates the OAuth client).
ApprovalHook = Callable[["AsyncSession", "Release", Approval], Awaitable[None]]
