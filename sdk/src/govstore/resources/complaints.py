"""Complaints about services, as their providers, reviewers and admins handle them.

Citizens file complaints through `catalogue.complain` and list their own with
`me.complaints`.
"""

from __future__ import annotations

from .._models import Complaint, ComplaintStatus
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, path, without_none
from ._core import M, Resource, endpoint, paginated


class Complaints(Resource[M]):
    """Complaints about a service: the provider's members, reviewers and admins read, respond
    and resolve; the complainant reads their own. Complainants are never named."""

    @paginated
    def list(
        self,
        service_id: str,
        *,
        status: ComplaintStatus | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageSpec[Complaint]:
        """Complaints about a service, newest first; `status` keeps only those in that state."""
        return PageSpec(
            path("/v1/services/{}/complaints", service_id),
            Complaint,
            params=without_none(status=None if status is None else str(status)),
            limit=limit,
            cursor=cursor,
        )

    @endpoint
    def get(self, complaint_id: str) -> RequestSpec[Complaint]:
        """One complaint with its responses: for the complainant, the provider's members,
        reviewers and admins; anyone else gets `NotFoundError`."""
        return RequestSpec("GET", path("/v1/complaints/{}", complaint_id), parse_model(Complaint))

    @endpoint
    def respond(self, complaint_id: str, message: str) -> RequestSpec[Complaint]:
        """Answer a complaint (the provider's members, reviewers and admins); it then reads
        `responded`. A resolved complaint raises `ConflictError`."""
        return RequestSpec(
            "POST",
            path("/v1/complaints/{}/responses", complaint_id),
            parse_model(Complaint),
            json={"message": message},
            creates=True,
        )

    @endpoint
    def resolve(self, complaint_id: str, resolution: str) -> RequestSpec[Complaint]:
        """Resolve a complaint, saying how (`resolution`, up to 2,000 characters).

        A resolved complaint no longer counts toward sending the service back to review;
        one already resolved raises `ConflictError`.
        """
        return RequestSpec(
            "POST",
            path("/v1/complaints/{}/resolve", complaint_id),
            parse_model(Complaint),
            json={"resolution": resolution},
        )
