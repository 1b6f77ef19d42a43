"""`/v1/catalogue`: the public catalogue of published services, their ratings, and complaints.

Anyone may search the catalogue, read a service's page and its ratings; rating a
service and complaining about it need a signed-in citizen.
"""

from __future__ import annotations

import httpx

from .._models import (
    Complaint,
    ComplaintCategory,
    Listing,
    PublicRating,
    Rating,
    SearchSort,
    ServicePage,
)
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, path, without_none
from ._core import M, Resource, endpoint, paginated


class Catalogue(Resource[M]):
    """Published services: search them, read one's page, rate it, complain about it."""

    @paginated
    def search(
        self,
        q: str | None = None,
        *,
        category: str | None = None,
        kitemark: str | None = None,
        scope: str | None = None,
        sort: SearchSort | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageSpec[Listing]:
        """Published services matching `q` and the filters (public: no sign-in needed).

        `q` matches words (stemmed) in the name, summary, description and provider; every
        word must match. `category`, `kitemark` (a scheme's slug: services holding it, active)
        and `scope` (services granted it) narrow the results, and combine. `sort` is a
        `SearchSort`: `relevance` by default with `q`, else `rating`. Suspended and withdrawn
        services drop out at once.
        """
        return PageSpec(
            "/v1/catalogue/services",
            Listing,
            params=without_none(
                q=q,
                category=category,
                kitemark=kitemark,
                scope=scope,
                sort=None if sort is None else str(sort),
            ),
            limit=limit,
            cursor=cursor,
        )

    @endpoint
    def get(self, slug: str) -> RequestSpec[ServicePage]:
        """A published service's catalogue page, by slug (public).

        Its provider, live kitemarks, every data use in plain English, ratings, outcomes and
        transparency figures. A service that is not listed raises `NotFoundError`.
        """
        return RequestSpec("GET", path("/v1/catalogue/services/{}", slug), parse_model(ServicePage))

    @paginated
    def ratings(
        self, slug: str, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[PublicRating]:
        """A service's ratings, newest first (public): anonymous, each from a verified user."""
        return PageSpec(
            path("/v1/catalogue/services/{}/ratings", slug),
            PublicRating,
            limit=limit,
            cursor=cursor,
        )

    @endpoint
    def rate(self, slug: str, stars: int, comment: str | None = None) -> RequestSpec[Rating]:
        """Rate a service from 1 to 5 `stars`, with an optional `comment` (words, no links).

        Only citizens who hold or held a consent for the service (else
        `PermissionDeniedError`). A citizen has one rating per service: rating again
        replaces it, and the result's `replaced` says so.
        """
        return RequestSpec(
            "POST",
            path("/v1/catalogue/services/{}/ratings", slug),
            _parse_rating,
            json=without_none(stars=stars, comment=comment),
            creates=True,
        )

    @endpoint
    def complain(
        self, slug: str, category: ComplaintCategory | str, description: str
    ) -> RequestSpec[Complaint]:
        """Complain about a service: `category` is a `ComplaintCategory`, `description` up to
        5,000 characters.

        The provider is told and can respond and resolve it; reviewers see it too. Enough open
        complaints send the service's live release back to review (it keeps working meanwhile).
        Follow it with `me.complaints()` or `complaints.get(id)`.
        """
        return RequestSpec(
            "POST",
            path("/v1/catalogue/services/{}/complaints", slug),
            parse_model(Complaint),
            json={"category": str(category), "description": description},
            creates=True,
        )


def _parse_rating(response: httpx.Response) -> Rating:
    # 201: the caller's first rating of the service; 200: it replaced their earlier one.
    rating = Rating.model_validate_json(response.content)
    rating._replaced = response.status_code == 200
    return rating
