"""Kitemark and consent jobs: expire what is past its date and warn providers before a kitemark lapses."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kitemarks.consents import expire_consents
from kitemarks.grants import expire_kitemarks
from kitemarks.oauth.retention import purge_spent_credentials
from marketplace.db import utcnow
from marketplace.jobs import JobRegistry

if TYPE_CHECKING:
    from marketplace.platform import Platform

kitemark_jobs = JobRegistry()


@kitemark_jobs.every(timedelta(minutes=5))
async def expire_grants_and_consents(ctx: dict[str, Any]) -> dict[str, int]:
    """Idempotent: each run ends what is due now; a crashed run's work is picked up by the next."""
    platform: Platform = ctx["platform"]
    warning = timedelta(days=platform.settings.kitemark_expiry_warning_days)
    async with platform.db.transaction() as session:
        expired, warned = await expire_kitemarks(session, warning)
    async with platform.db.transaction() as session:
        consents = await expire_consents(session)
    return {"kitemarks_expired": expired, "kitemarks_warned": warned, "consents_expired": consents}


@kitemark_jobs.every(timedelta(hours=1))
async def purge_spent_oauth_credentials(ctx: dict[str, Any]) -> dict[str, int]:
    """Idempotent: deletes token families and codes spent for `GOVSTORE_OAUTH_RETENTION_DAYS`."""
    platform: Platform = ctx["platform"]
    cutoff = utcnow() - timedelta(days=platform.settings.oauth_retention_days)
    return await purge_spent_credentials(platform.db, cutoff)
