"""Provider organisations and their members."""

from __future__ import annotations

from .._base_client import BaseClient
from .._models import DeliveryStatus, Organisation, OrganisationSummary, Webhook, WebhookDelivery
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, parse_nothing, path, without_none
from ._core import M, Resource, endpoint, paginated


class OrganisationWebhook(Resource[M]):
    """`/v1/organisations/{org_id}/webhook`: where an organisation's events are sent.

    Each delivery is signed with the webhook's secret; check it with
    `govstore.verify_webhook`. Members read; only owners change.
    """

    @endpoint
    def set(self, org_id: str, url: str, secret: str | None = None) -> RequestSpec[Webhook]:
        """Create or replace the webhook: an https `url` (plain http only to loopback in dev).

        Without `secret` (24 to 200 characters) the server generates one and returns it
        in `Webhook.secret`, this once only.
        """
        return RequestSpec(
            "PUT",
            path("/v1/organisations/{}/webhook", org_id),
            parse_model(Webhook),
            json=without_none(url=url, secret=secret),
        )

    @endpoint
    def get(self, org_id: str) -> RequestSpec[Webhook]:
        """The webhook (never its secret); `NotFoundError` when none is set."""
        return RequestSpec(
            "GET", path("/v1/organisations/{}/webhook", org_id), parse_model(Webhook)
        )

    @endpoint
    def delete(self, org_id: str) -> RequestSpec[None]:
        """Remove the webhook; deliveries still pending then fail."""
        return RequestSpec("DELETE", path("/v1/organisations/{}/webhook", org_id), parse_nothing)

    @paginated
    def deliveries(
        self,
        org_id: str,
        *,
        status: DeliveryStatus | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageSpec[WebhookDelivery]:
        """Every delivery, newest first, with its attempts; `status` keeps only those."""
        return PageSpec(
            path("/v1/organisations/{}/webhook/deliveries", org_id),
            WebhookDelivery,
            params=without_none(status=None if status is None else str(status)),
            limit=limit,
            cursor=cursor,
        )


class Organisations(Resource[M]):
    """`/v1/organisations`: a provider's organisations; only members see one."""

    def __init__(self, client: BaseClient) -> None:
        super().__init__(client)
        self.webhook: OrganisationWebhook[M] = OrganisationWebhook(client)

    @endpoint
    def create(
        self, name: str, contact_email: str, company_number: str | None = None
    ) -> RequestSpec[Organisation]:
        """Create an organisation; the caller becomes its owner."""
        body = without_none(name=name, contact_email=contact_email, company_number=company_number)
        return RequestSpec(
            "POST", "/v1/organisations", parse_model(Organisation), json=body, creates=True
        )

    @endpoint
    def get(self, org_id: str) -> RequestSpec[Organisation]:
        """One organisation and its members."""
        return RequestSpec("GET", path("/v1/organisations/{}", org_id), parse_model(Organisation))

    @endpoint
    def add_member(self, org_id: str, email: str, role: str) -> RequestSpec[Organisation]:
        """Add a registered provider account as an `owner` or `developer`.

        Returns the organisation with all its members, the new one included.
        """
        return RequestSpec(
            "POST",
            path("/v1/organisations/{}/members", org_id),
            parse_model(Organisation),
            json={"email": email, "role": role},
            creates=True,
        )

    @paginated
    def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[OrganisationSummary]:
        """The organisations the caller belongs to, with the caller's role; `get` one for more."""
        return PageSpec("/v1/organisations", OrganisationSummary, limit=limit, cursor=cursor)
