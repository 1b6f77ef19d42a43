"""Webhook rules: endpoint set-up, turning audit events into deliveries, and delivering them."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors
from marketplace.auth import Principal
from marketplace.db import utcnow
from marketplace.events import AuditEvent, record_event
from marketplace.ids import new_id
from marketplace.jobs import backoff
from marketplace.organisations.services import visible_organisation
from marketplace.releases.models import Release, Service
from marketplace.sealing import Sealer
from marketplace.settings import Settings
from marketplace.webhooks import signing
from marketplace.webhooks.models import (
    DeliveryStatus,
    EventCursor,
    WebhookDelivery,
    WebhookEndpoint,
)

if TYPE_CHECKING:
    from marketplace.platform import Platform

logger = logging.getLogger("govstore.webhooks")

CURSOR = "webhooks"
BATCH = 500
# On PostgreSQL an event id can commit after a higher one; the cursor never passes a gap
# younger than this, so a slow transaction's event is not skipped (older gaps are rollbacks).
GAP_GRACE = timedelta(seconds=60)
# A deferred job may wake a little before its delivery is due.
DUE_SLACK = timedelta(milliseconds=500)

# Audit tag → webhook event name. Later capabilities add their tags here.
EVENTS: dict[str, str] = {
    "release:status:changed": "release.status_changed",
}

# How to find the organisations a batch of events concern (event id → organisation id), by
# subject type; one query per batch, not per event.
OrganisationOf = Callable[[AsyncSession, list[AuditEvent]], Awaitable[dict[int, str]]]


async def _organisations_of_releases(
    session: AsyncSession, events: list[AuditEvent]
) -> dict[int, str]:
    service_of: dict[int, str] = {}
    missing = [e for e in events if not e.body.get("service_id")]
    releases = (
        dict(
            (
                await session.exec(
                    select(Release.id, Release.service_id).where(
                        col(Release.id).in_([e.subject_id for e in missing])
                    )
                )
            ).all()
        )
        if missing
        else {}
    )
    for event in events:
        assert event.id is not None
        service_id = event.body.get("service_id") or releases.get(event.subject_id)
        if service_id:
            service_of[event.id] = str(service_id)
    organisations = dict(
        (
            await session.exec(
                select(Service.id, Service.organisation_id).where(
                    col(Service.id).in_(set(service_of.values()))
                )
            )
        ).all()
    )
    return {
        event_id: organisations[service_id]
        for event_id, service_id in service_of.items()
        if service_id in organisations
    }


ORGANISATION_RESOLVERS: dict[str, OrganisationOf] = {"release": _organisations_of_releases}


def _secret_context(organisation_id: str) -> str:
    return f"webhook-secret:{organisation_id}"


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in every form a resolver accepts: `127.1`,
    `0x7f000001` and `2130706433` are all 127.0.0.1."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host.lower()):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return bool(
        address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or address.is_loopback
    )


def url_problems(url: str, settings: Settings) -> list[errors.FieldError]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    problem = None
    loopback = host == "localhost" or host.endswith(".localhost")
    address = literal_address(host)
    if address is not None:
        loopback = loopback or address.is_loopback
        if not address.is_loopback and is_internal(address):
            problem = "must not point at a private network address"
    if parts.scheme not in {"https", "http"} or not host:
        problem = "must be an absolute https URL"
    elif parts.username or parts.password:
        problem = "must not contain credentials"
    elif parts.fragment:
        problem = "must not contain a fragment"
    elif loopback and not settings.base_url_is_loopback:
        problem = "must not point at a loopback address"
    elif parts.scheme == "http" and not (loopback and settings.base_url_is_loopback):
        problem = "must use https (plain http only for loopback URLs in development)"
    return [errors.FieldError("/url", problem)] if problem else []


async def set_endpoint(
    session: AsyncSession,
    sealer: Sealer,
    settings: Settings,
    principal: Principal,
    organisation_id: str,
    *,
    url: str,
    secret: str | None,
) -> tuple[WebhookEndpoint, str | None]:
    """Create or replace the organisation's endpoint; returns the secret when one was generated."""
    await visible_organisation(session, principal, organisation_id, owner=True)
    problems = url_problems(url, settings)
    if problems:
        raise errors.ValidationFailed(problems)
    generated = None
    if secret is None:
        secret = generated = "whsec_" + secrets.token_urlsafe(32)
    endpoint = await session.get(WebhookEndpoint, organisation_id)
    sealed = sealer.seal(secret, _secret_context(organisation_id))
    if endpoint is None:
        endpoint = WebhookEndpoint(organisation_id=organisation_id, url=url, secret_sealed=sealed)
    else:
        endpoint.url, endpoint.secret_sealed, endpoint.updated_at = url, sealed, utcnow()
    session.add(endpoint)
    record_event(
        session,
        "organisation:webhook:set",
        subject_type="organisation",
        subject_id=organisation_id,
        actor_id=principal.account_id,
        body={"url": url},
    )
    return endpoint, generated


async def get_endpoint(
    session: AsyncSession, principal: Principal, organisation_id: str
) -> WebhookEndpoint:
    await visible_organisation(session, principal, organisation_id)
    endpoint = await session.get(WebhookEndpoint, organisation_id)
    if endpoint is None:
        raise errors.NotFound("this organisation has no webhook")
    return endpoint


async def delete_endpoint(
    session: AsyncSession, principal: Principal, organisation_id: str
) -> None:
    await visible_organisation(session, principal, organisation_id, owner=True)
    endpoint = await session.get(WebhookEndpoint, organisation_id)
    if endpoint is None:
        raise errors.NotFound("this organisation has no webhook")
    await session.delete(endpoint)
    pending = (
        await session.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.organisation_id == organisation_id)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING)
        )
    ).all()
    for delivery in pending:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        delivery.last_error = "the organisation removed its webhook"
        session.add(delivery)
    record_event(
        session,
        "organisation:webhook:deleted",
        subject_type="organisation",
        subject_id=organisation_id,
        actor_id=principal.account_id,
    )


def _payload(delivery_id: str, name: str, event: AuditEvent) -> dict[str, Any]:
    data = {k: v for k, v in event.body.items() if k != "actor"}
    data[f"{event.subject_type}_id"] = event.subject_id
    return {
        "id": delivery_id,
        "event": name,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


async def dispatch_events(session: AsyncSession) -> tuple[list[str], int]:
    """Turn audit events past the cursor into deliveries: (new delivery ids, events consumed).

    The cursor row is locked for the transaction, so concurrent dispatchers queue rather than
    create a delivery twice (the unique (event, organisation) constraint is the backstop).
    """
    cursor = (
        await session.exec(select(EventCursor).where(EventCursor.name == CURSOR).with_for_update())
    ).first()
    if cursor is None:
        cursor = EventCursor(name=CURSOR, last_event_id=0)
        session.add(cursor)
        await session.flush()
    events = (
        await session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.id) > cursor.last_event_id)
            .order_by(col(AuditEvent.id))
            .limit(BATCH)
        )
    ).all()
    created: list[str] = []
    expected = cursor.last_event_id + 1
    now = utcnow()
    processed = []
    for event in events:
        assert event.id is not None
        if event.id != expected and now - event.created_at < GAP_GRACE:
            break
        expected = event.id + 1
        processed.append(event)
    relevant = [
        e for e in processed if e.tag in EVENTS and e.subject_type in ORGANISATION_RESOLVERS
    ]
    endpoints = (
        {e.organisation_id: e for e in (await session.exec(select(WebhookEndpoint))).all()}
        if relevant
        else {}
    )
    organisation_of: dict[int, str] = {}
    if endpoints:
        for subject_type, resolver in ORGANISATION_RESOLVERS.items():
            batch = [e for e in relevant if e.subject_type == subject_type]
            if batch:
                organisation_of.update(await resolver(session, batch))
    for event in relevant:
        assert event.id is not None
        name = EVENTS[event.tag]
        organisation_id = organisation_of.get(event.id)
        endpoint = endpoints.get(organisation_id) if organisation_id else None
        if endpoint is None or organisation_id is None:
            continue
        delivery_id = new_id("whd")
        session.add(
            WebhookDelivery(
                id=delivery_id,
                organisation_id=organisation_id,
                event_id=event.id,
                event=name,
                url=endpoint.url,
                payload=_payload(delivery_id, name, event),
                status=DeliveryStatus.PENDING,
                next_attempt_at=utcnow(),
            )
        )
        created.append(delivery_id)
    if processed:
        last = processed[-1].id
        assert last is not None
        cursor.last_event_id = last
        session.add(cursor)
    return created, len(processed)


async def _resolution_problem(url: str, settings: Settings) -> str | None:
    """Refuse to post where the host resolves to an internal address (outside development)."""
    if settings.base_url_is_loopback:
        return None
    parts = urlsplit(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError:
        return "could not resolve the endpoint's host"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if is_internal(address):
            return "the endpoint's host resolves to a private network address"
    return None


async def deliver(
    platform: Platform, delivery_id: str, client: httpx.AsyncClient | None = None
) -> DeliveryStatus:
    """Make one attempt; on failure schedule the next (exponential back-off) or give up."""
    settings = platform.settings
    async with platform.db.transaction() as session:
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return delivery.status if delivery else DeliveryStatus.FAILED
        now = utcnow()
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + DUE_SLACK:
            # Not due yet, or another job holds this attempt: one POST per attempt.
            return DeliveryStatus.PENDING
        # Hold the attempt: nobody else takes it until the request has had time to finish.
        delivery.next_attempt_at = now + timedelta(seconds=2 * settings.webhook_timeout_seconds)
        session.add(delivery)
        endpoint = await session.get(WebhookEndpoint, delivery.organisation_id)
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    status_code: int | None = None
    error: str | None = None
    if endpoint is None:
        error = "the organisation removed its webhook"
    elif (refusal := await _resolution_problem(endpoint.url, settings)) is not None:
        error = refusal
    else:
        secret = platform.sealer.unseal(
            endpoint.secret_sealed, _secret_context(endpoint.organisation_id)
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GovStore-Webhooks/1",
            signing.EVENT_HEADER: delivery.event,
            signing.DELIVERY_HEADER: delivery.id,
            signing.SIGNATURE_HEADER: signing.signature(secret, int(time.time()), body),
        }
        owned = client is None
        http = client or httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False
        )
        try:
            response = await http.post(endpoint.url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"the endpoint answered {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: could not reach the endpoint"
        finally:
            if owned:
                await http.aclose()
    async with platform.db.transaction() as session:
        current = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if current is None or current.status is not DeliveryStatus.PENDING:
            return current.status if current else DeliveryStatus.FAILED
        current.attempts += 1
        current.last_status_code = status_code
        current.last_error = error
        if error is None:
            current.status = DeliveryStatus.DELIVERED
            current.delivered_at = utcnow()
            current.next_attempt_at = None
        elif current.attempts >= settings.webhook_max_attempts:
            current.status = DeliveryStatus.FAILED
            current.next_attempt_at = None
        else:
            current.next_attempt_at = utcnow() + timedelta(
                seconds=backoff(
                    current.attempts, base=settings.webhook_backoff_seconds, cap=6 * 3600
                )
            )
        session.add(current)
        return current.status
