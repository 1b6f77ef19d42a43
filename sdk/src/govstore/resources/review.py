"""Review: the automated checks, and reviewers' queue, claims, decisions, second approvals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._models import (
    Check,
    Claim,
    Decision,
    DecisionOutcome,
    FindingInput,
    QueueItem,
    ReviewerRelease,
)
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, parse_nothing, path, without_none
from ._core import M, Resource, endpoint, paginated


class Checks(Resource[M]):
    """`/v1/checks`: the automated checks a guideline can name; anyone may read them."""

    @paginated
    def list(self) -> PageSpec[Check]:
        """Every automated check, by id."""
        return PageSpec("/v1/checks", Check)


class Review(Resource[M]):
    """`/v1/review`: reviewers (and admins) take releases from the queue and decide on them.

    A reviewer never sees or decides a release of their own organisation's.
    """

    @paginated
    def queue(self, *, limit: int | None = None, cursor: str | None = None) -> PageSpec[QueueItem]:
        """Releases awaiting review, oldest and riskiest first."""
        return PageSpec("/v1/review/queue", QueueItem, limit=limit, cursor=cursor)

    @endpoint
    def get(self, release_id: str) -> RequestSpec[ReviewerRelease]:
        """A release to review: manifest, automated findings, risk, its claim and every decision."""
        return RequestSpec(
            "GET", path("/v1/review/releases/{}", release_id), parse_model(ReviewerRelease)
        )

    @endpoint
    def claim(self, release_id: str) -> RequestSpec[Claim]:
        """Take a lease on a waiting release, or renew your own; only its holder may decide.

        Raises `ConflictError` when another reviewer holds it.
        """
        return RequestSpec(
            "POST", path("/v1/review/releases/{}/claim", release_id), parse_model(Claim)
        )

    @endpoint
    def release_claim(self, release_id: str) -> RequestSpec[None]:
        """Give a claimed release back to the queue without deciding."""
        return RequestSpec(
            "DELETE", path("/v1/review/releases/{}/claim", release_id), parse_nothing
        )

    @endpoint
    def decide(
        self,
        release_id: str,
        outcome: DecisionOutcome | str,
        findings: Sequence[FindingInput | Mapping[str, Any]],
        kitemarks: Sequence[str] = (),
        scopes: Sequence[str] = (),
        note: str | None = None,
    ) -> RequestSpec[Decision]:
        """Approve, reject or request changes on a release you have claimed.

        `findings` needs one per blocking guideline of the release's guideline version
        (`FindingInput`s or dicts with `code`, `result` and optionally `note`);
        rejecting or requesting changes needs at least one that failed. An approval
        grants `kitemarks` and `scopes`, no more than were applied for (a lower tier of a
        requested scope is allowed); granting a high-sensitivity scope waits for a second
        reviewer's `second_approval`. Invalid findings or grants raise
        `UnprocessableEntityError` with a pointer to each.
        """
        body = without_none(
            outcome=str(outcome),
            findings=[
                item.model_dump(mode="json", exclude_none=True)
                if isinstance(item, FindingInput)
                else dict(item)
                for item in findings
            ],
            kitemarks=list(kitemarks),
            scopes=list(scopes),
            note=note,
        )
        return RequestSpec(
            "POST",
            path("/v1/review/releases/{}/decision", release_id),
            parse_model(Decision),
            json=body,
        )

    @endpoint
    def second_approval(
        self,
        release_id: str,
        outcome: DecisionOutcome | str = DecisionOutcome.APPROVE,
        note: str | None = None,
    ) -> RequestSpec[Decision]:
        """Confirm another reviewer's approval of a high-sensitivity scope, or overturn it.

        Must come from a different reviewer; rejecting or requesting changes needs a `note`.
        """
        return RequestSpec(
            "POST",
            path("/v1/review/releases/{}/second-approval", release_id),
            parse_model(Decision),
            json=without_none(outcome=str(outcome), note=note),
        )
