"""HTTP API for an organisation's webhook endpoint and its delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace.accounts.models import TokenScope
from marketplace.auth import Principal
from marketplace.organisations.services import visible_organisation
from marketplace.pagination import ListQuery, Page, paginate
from marketplace.platform import Platform
from marketplace.routing import Input, Output, Router
from marketplace.webhooks import services
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

router = Router("organisations")


class WebhookIn(Input):
    url: str = Field(
        min_length=8, max_length=2000, description="https (loopback http in development)"
    )
    secret: str | None = Field(
        default=None,
        min_length=24,
        max_length=200,
        description="your signing secret; omit and one is generated and returned once",
    )


class WebhookOut(Output):
    organisation_id: str
    url: str
    events: list[str]
    created_at: datetime
    updated_at: datetime
    secret: str | None = Field(
        default=None, description="the generated signing secret: returned once, never again"
    )

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, secret: str | None = None) -> WebhookOut:
        return cls(
            organisation_id=endpoint.organisation_id,
            url=endpoint.url,
            events=sorted(set(services.EVENTS.values())),
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
            secret=secret,
        )


class DeliveryOut(Output):
    id: str
    event: str
    url: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=d.id,
            event=d.event,
            url=d.url,
            status=d.status,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            payload=d.payload,
        )


class DeliveryQuery(ListQuery):
    status: DeliveryStatus | None = None


@router.put(
    "/v1/organisations/{org_id}/webhook",
    summary="Set the organisation's webhook",
    scope=TokenScope.ORGANISATIONS_WRITE,
    errors=(403, 404, 422),
)
async def set_webhook(
    platform: Platform, session: AsyncSession, principal: Principal, org_id: str, body: WebhookIn
) -> WebhookOut:
    """Owners set where events go. Each delivery is signed: `GovStore-Signature: t=<unix>,v1=<hex
    HMAC-SHA256 of "t.body">` with the secret, plus `GovStore-Event` and `GovStore-Delivery`."""
    endpoint, generated = await services.set_endpoint(
        session,
        platform.sealer,
        platform.settings,
        principal,
        org_id,
        url=body.url,
        secret=body.secret,
    )
    return WebhookOut.of(endpoint, generated)


@router.get(
    "/v1/organisations/{org_id}/webhook", summary="The organisation's webhook", errors=(404,)
)
async def get_webhook(session: AsyncSession, principal: Principal, org_id: str) -> WebhookOut:
    """Members only; the secret is never shown again."""
    return WebhookOut.of(await services.get_endpoint(session, principal, org_id))


@router.delete(
    "/v1/organisations/{org_id}/webhook",
    summary="Remove the webhook",
    status_code=204,
    scope=TokenScope.ORGANISATIONS_WRITE,
    errors=(403, 404),
)
async def delete_webhook(session: AsyncSession, principal: Principal, org_id: str) -> None:
    """Owners only. Pending deliveries then fail."""
    await services.delete_endpoint(session, principal, org_id)


@router.get(
    "/v1/organisations/{org_id}/webhook/deliveries",
    summary="Webhook delivery log",
    errors=(404,),
)
async def list_deliveries(
    session: AsyncSession, principal: Principal, org_id: str, query: DeliveryQuery
) -> Page[DeliveryOut]:
    """Every delivery, newest first, with its attempts and the endpoint's last answer."""
    await visible_organisation(session, principal, org_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.organisation_id == org_id)
    if query.status is not None:
        statement = statement.where(WebhookDelivery.status == query.status)
    rows, cursor = await paginate(
        session,
        statement,
        keys=[col(WebhookDelivery.created_at), col(WebhookDelivery.id)],
        key_of=lambda d: [d.created_at.isoformat(), d.id],
        query=query,
        descending=True,
    )
    return Page[DeliveryOut](items=[DeliveryOut.of(d) for d in rows], next_cursor=cursor)
