"""Wires the catalogue into a platform: the read-model listener and the complaint webhook."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogue import index
from catalogue.search import SearchCache
from catalogue.version import VersionWatch
from marketplace.events import AuditEvent
from marketplace.platform import Platform
from marketplace.releases.models import Service
from marketplace.webhooks import services as webhooks

logger = logging.getLogger("govstore.catalogue")

WEBHOOK_EVENTS = {"catalogue:complaint:received": "complaint.received"}


async def _organisations_of_complaints(
    session: AsyncSession, events: list[AuditEvent]
) -> dict[int, str]:
    """Complaint events carry their service id; the service names the organisation."""
    service_ids = {e.body.get("service_id") for e in events}
    owners: dict[Any, str] = {
        s.id: s.organisation_id
        for s in (await session.exec(select(Service).where(col(Service.id).in_(service_ids)))).all()
    }
    return {
        e.id: owners[e.body["service_id"]]
        for e in events
        if e.id is not None and e.body.get("service_id") in owners
    }


def install_catalogue(platform: Platform) -> None:
    index.install()
    platform.services["catalogue_search"] = SearchCache()
    webhooks.EVENTS.update(WEBHOOK_EVENTS)
    webhooks.ORGANISATION_RESOLVERS["complaint"] = _organisations_of_complaints


async def start_catalogue(platform: Platform) -> None:
    """Listen for catalogue changes (PostgreSQL), and build the listings once, on the first
    start after the catalogue's migration.

    A database that is down at start-up must not stop the process (readiness reports it); two
    processes starting together build once (the loser's unique-key conflict is the proof).
    """
    watch = VersionWatch(platform.settings.effective_database_url)
    platform.services["catalogue_version"] = watch
    watch.start()
    platform.on_close.append(watch.close)
    try:
        async with platform.db.transaction() as session:
            built = (
                await session.exec(sa.text("SELECT COUNT(*) FROM catalogue_version"))  # type: ignore[call-overload]
            ).one()[0]
            if built:
                return
            count = await session.run_sync(index.rebuild)
        logger.info("catalogue built: %s listings", count)
    except IntegrityError:
        logger.info("catalogue built by another process")
    except OSError:
        logger.warning("catalogue not checked at start-up: the database is unreachable")
