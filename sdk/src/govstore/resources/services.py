"""A provider's services and the releases submitted for review."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .._base_client import BaseClient
from .._exceptions import WaitTimeoutError
from .._models import (
    OAuthClientCredentials,
    OAuthClientRegistration,
    OutcomeReport,
    ProviderService,
    Release,
    ReleaseDetail,
    ReleaseStatus,
    ReleaseSummary,
    Service,
)
from .._pagination import PageSpec
from .._request import PollSpec, RequestSpec, parse_model, path, without_none
from ._core import M, Resource, endpoint, paginated, polling

# Where `releases.wait` stops by default: automated review has finished, or a decision
# (or the provider) has settled the release for now.
SETTLED = frozenset(
    {
        ReleaseStatus.CHANGES_REQUESTED,
        ReleaseStatus.AWAITING_REVIEW,
        ReleaseStatus.REJECTED,
        ReleaseStatus.APPROVED,
        ReleaseStatus.PUBLISHED,
        ReleaseStatus.WITHDRAWN,
    }
)


class ServiceOAuthClient(Resource[M]):
    """`/v1/services/{service_id}/oauth-client`: the OAuth client a service's approval created.

    Members of the service's organisation only. Use the client id and secret with
    `govstore.OAuthClient` to get tokens.
    """

    @endpoint
    def get(self, service_id: str) -> RequestSpec[OAuthClientRegistration]:
        """The client: its id, redirect URIs and scopes, and whether a secret was issued.

        `NotFoundError` until a release of the service is approved.
        """
        return RequestSpec(
            "GET",
            path("/v1/services/{}/oauth-client", service_id),
            parse_model(OAuthClientRegistration),
        )

    @endpoint
    def rotate_secret(self, service_id: str) -> RequestSpec[OAuthClientCredentials]:
        """Issue the client's secret, or replace it: shown this once only, so store it now.

        The old secret stops working at once; tokens already issued live on.
        """
        return RequestSpec(
            "POST",
            path("/v1/services/{}/oauth-client", service_id),
            parse_model(OAuthClientCredentials),
        )


class Services(Resource[M]):
    """Services of an organisation, in the provider's view."""

    def __init__(self, client: BaseClient) -> None:
        super().__init__(client)
        self.oauth_client: ServiceOAuthClient[M] = ServiceOAuthClient(client)

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
    def get(self, service_id: str) -> RequestSpec[ProviderService]:
        """One service with a summary of each of its releases, newest first, and its grants.

        The provider's view (members only): also its kitemarks, its scope grants and its
        OAuth client id (None until a release is approved).
        """
        return RequestSpec("GET", path("/v1/services/{}", service_id), parse_model(ProviderService))

    @endpoint
    def suspend(self, service_id: str, reason: str) -> RequestSpec[Release]:
        """Suspend a published service (reviewers and admins), with a `reason`.

        `reason` is 3 to 1000 characters. The service leaves the catalogue, and its
        tokens stop working at the next token request and the next introspection.
        Returns the suspended release.
        """
        return RequestSpec(
            "POST",
            path("/v1/services/{}/suspend", service_id),
            parse_model(Release),
            json={"reason": reason},
        )

    @endpoint
    def reinstate(self, service_id: str, reason: str) -> RequestSpec[Release]:
        """Reinstate a suspended service (admins only), with a `reason`.

        Its suspended release is published again; a service that is not suspended
        raises `ConflictError`.
        """
        return RequestSpec(
            "POST",
            path("/v1/services/{}/reinstate", service_id),
            parse_model(Release),
            json={"reason": reason},
        )

    @paginated
    def list(
        self, org_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[Service]:
        """An organisation's services."""
        return PageSpec(
            path("/v1/organisations/{}/services", org_id), Service, limit=limit, cursor=cursor
        )

    @endpoint
    def report_outcome(
        self, service_id: str, period: str, metric: str, value: float
    ) -> RequestSpec[OutcomeReport]:
        """Report a listed service's `value` of `metric` for `period` (members of its organisation).

        `period` is a year (`2026`), a month (`2026-10`) or a quarter (`2026-Q3`) that has
        started; `metric` one the live release's manifest declared (`outcome_metrics`). A
        later report for the same period and metric replaces the public figure; both stay
        in the history. A service not in the catalogue raises `ConflictError`.
        """
        return RequestSpec(
            "POST",
            path("/v1/services/{}/outcomes", service_id),
            parse_model(OutcomeReport),
            json={"period": period, "metric": metric, "value": value},
            creates=True,
        )

    @paginated
    def outcomes(
        self,
        service_id: str,
        *,
        metric: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageSpec[OutcomeReport]:
        """Every outcome report of a service, newest first; `metric` keeps one metric's.

        The provider's members, reviewers and admins; the public sees the latest value per
        period on the service's catalogue page.
        """
        return PageSpec(
            path("/v1/services/{}/outcomes", service_id),
            OutcomeReport,
            params=without_none(metric=metric),
            limit=limit,
            cursor=cursor,
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
    def get(self, service_id: str, release_id: str) -> RequestSpec[ReleaseDetail]:
        """A release with its review: status, history, findings, decision and queue position.

        Each finding points at a manifest field and says how to fix it; `queue` is set
        while the release waits for a reviewer.
        """
        return _get_release(service_id, release_id)

    @endpoint
    def appeal(self, service_id: str, release_id: str, reason: str) -> RequestSpec[ReleaseDetail]:
        """Appeal a rejection, once per release: it goes back to the queue for another reviewer.

        `reason` (10 characters or more) is kept in the release's history. A release
        that is not rejected, or was appealed before, raises `ConflictError`.
        """
        return RequestSpec(
            "POST",
            path("/v1/services/{}/releases/{}/appeal", service_id, release_id),
            parse_model(ReleaseDetail),
            json={"reason": reason},
        )

    @polling
    def wait(
        self,
        service_id: str,
        release_id: str,
        *,
        until: ReleaseStatus | str | Collection[ReleaseStatus | str] | None = None,
        timeout: float = 60,
        poll_interval: float = 1,
    ) -> PollSpec[ReleaseDetail]:
        """Fetch the release every `poll_interval` seconds until its status is one of `until`.

        Review moves a release on in the background (submitted, automated_review, then
        awaiting_review or changes_requested); by default this waits until it settles:
        changes_requested, awaiting_review, rejected, approved, published or withdrawn.
        Returns the release as last fetched. After `timeout` seconds raises
        `WaitTimeoutError` (a `TimeoutError`) carrying it.
        """
        if until is None:
            wanted = frozenset(str(status) for status in SETTLED)
        elif isinstance(until, str):
            wanted = frozenset({str(until)})
        else:
            wanted = frozenset(str(status) for status in until)
        if not wanted:
            raise ValueError("until names no status to wait for")

        def timed_out(release: ReleaseDetail) -> WaitTimeoutError:
            return WaitTimeoutError(
                f"release {release_id} is still {release.status} after {timeout:g}s;"
                f" waited for {', '.join(sorted(wanted))}",
                release=release,
                until=wanted,
                timeout=timeout,
            )

        return PollSpec(
            _get_release(service_id, release_id),
            done=lambda release: release.status in wanted,
            timeout=timeout,
            interval=poll_interval,
            timed_out=timed_out,
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


def _get_release(service_id: str, release_id: str) -> RequestSpec[ReleaseDetail]:
    return RequestSpec(
        "GET",
        path("/v1/services/{}/releases/{}", service_id, release_id),
        parse_model(ReleaseDetail),
    )
