"""Webhook jobs: dispatch audit events into deliveries, deliver with back-off, sweep what is due."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from marketplace.db import utcnow
from marketplace.jobs import JobRegistry
from marketplace.webhooks import services
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery

if TYPE_CHECKING:
    from marketplace.events import AuditEvent
    from marketplace.platform import Platform

webhook_jobs = JobRegistry()


async def _queue_delivery(
    platform: Platform, delivery: WebhookDelivery, *, again: bool = False
) -> None:
    delay = 0.0
    if delivery.next_attempt_at is not None:
        delay = max(0.0, (delivery.next_attempt_at - utcnow()).total_seconds())
    await platform.jobs.enqueue(
        "deliver_webhook",
        job_id=f"webhook:{delivery.id}:{delivery.attempts + 1}",
        defer_seconds=delay,
        # The sweep re-queues deliveries whose job died: a fresh id, not the dead one's.
        coalesce=again,
        delivery_id=delivery.id,
    )


@webhook_jobs.register
async def dispatch_webhooks(ctx: dict[str, Any]) -> int:
    """Create deliveries for every audit event not yet dispatched, then queue them."""
    platform: Platform = ctx["platform"]
    total = 0
    while True:
        async with platform.db.transaction() as session:
            created, consumed = await services.dispatch_events(session)
        for delivery_id in created:
            await platform.jobs.enqueue(
                "deliver_webhook", job_id=f"webhook:{delivery_id}:1", delivery_id=delivery_id
            )
        total += len(created)
        # Stop when nothing is left, or when the cursor is held at a gap (the sweep returns).
        if consumed == 0:
            return total


@webhook_jobs.register
async def deliver_webhook(ctx: dict[str, Any], delivery_id: str) -> str:
    platform: Platform = ctx["platform"]
    status = await services.deliver(platform, delivery_id)
    if status is DeliveryStatus.PENDING:
        async with platform.db.session(write=False) as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is not None:
            await _queue_delivery(platform, delivery)
    return status.value


@webhook_jobs.every(timedelta(minutes=1))
async def sweep_webhooks(ctx: dict[str, Any]) -> int:
    """Safety net after restarts: dispatch missed events and re-queue deliveries that are due."""
    platform: Platform = ctx["platform"]
    await dispatch_webhooks(ctx)
    async with platform.db.session(write=False) as session:
        due = (
            await session.exec(
                select(WebhookDelivery)
                .where(WebhookDelivery.status == DeliveryStatus.PENDING)
                .where(col(WebhookDelivery.next_attempt_at) <= utcnow())
                .limit(1000)
            )
        ).all()
    for delivery in due:
        await _queue_delivery(platform, delivery, again=True)
    return len(due)


def dispatch_hook(platform: Platform) -> Any:
    """After a commit that recorded webhook-worthy events, queue the dispatcher."""

    async def hook(events: list[AuditEvent]) -> None:
        if any(e.tag in services.EVENTS for e in events):
            await platform.jobs.enqueue("dispatch_webhooks", job_id="dispatch", coalesce=True)

    return hook
