"""A provider's services and the releases submitted for review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._models import Release, ReleaseSummary, Service
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, path, without_none
from ._core import M, Resource, endpoint, paginated


class Services(Resource[M]):
    """Services of an organisation, in the provider's view."""

    @endpoint
    def create(self, org_id: str, slug: str, name: str) -> RequestSpec[Service]:
        """Create a service; `slug` is unique and URL-safe."""
        return RequestSpec(
            "POST",
            path("/v1/organisations/{}/services", org_id),
            parse_model(Service),
            json={"slug": slug, "name": name},
            creates=True,
        )

    @endpoint
    def get(self, service_id: str) -> RequestSpec[Service]:
        """One service with a summary of each of its releases, newest first."""
        return RequestSpec("GET", path("/v1/services/{}", service_id), parse_model(Service))

    @paginated
    def list(
        self, org_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[Service]:
        """An organisation's services."""
        return PageSpec(
            path("/v1/organisations/{}/services", org_id), Service, limit=limit, cursor=cursor
        )


class Releases(Resource[M]):
    """Releases of a service: each a manifest submitted for review."""

    @endpoint
    def submit(self, service_id: str, manifest: Mapping[str, Any]) -> RequestSpec[Release]:
        """Submit a manifest; an invalid one raises `UnprocessableEntityError` with pointers."""
        return RequestSpec(
            "POST",
            path("/v1/services/{}/releases", service_id),
            parse_model(Release),
            json={"manifest": dict(manifest)},
            creates=True,
        )

    @endpoint
    def get(self, service_id: str, release_id: str) -> RequestSpec[Release]:
        """A release: status, report, findings, decision and history."""
        return RequestSpec(
            "GET", path("/v1/services/{}/releases/{}", service_id, release_id), parse_model(Release)
        )

    @endpoint
    def withdraw(
        self, service_id: str, release_id: str, reason: str | None = None
    ) -> RequestSpec[Release]:
        """Take a release out of review, or out of the catalogue if published.

        `reason` is kept in the release's history. A release already final (rejected,
        withdrawn, superseded) raises `ConflictError`.
        """
        return RequestSpec(
            "POST",
            path("/v1/services/{}/releases/{}/withdraw", service_id, release_id),
            parse_model(Release),
            json=without_none(reason=reason),
        )

    @paginated
    def list(
        self, service_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[ReleaseSummary]:
        """A service's releases, newest first; `get` one for its manifest and history."""
        return PageSpec(
            path("/v1/services/{}/releases", service_id), ReleaseSummary, limit=limit, cursor=cursor
        )
