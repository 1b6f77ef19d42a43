"""What citizens and providers add to a listing: ratings, complaints (with re-review), outcomes."""

from __future__ import annotations

import math
import re
import statistics
from datetime import timedelta
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogue.models import (
    CatalogueEntry,
    Complaint,
    ComplaintCategory,
    ComplaintResponse,
    ComplaintStatus,
    OutcomeReport,
    Rating,
)
from kitemarks.models import Consent, ConsentStatus
from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.auth import Principal
from marketplace.db import utcnow
from marketplace.events import record_event
from marketplace.ids import new_id
from marketplace.organisations.services import membership_of
from marketplace.releases.lifecycle import Actor, ReleaseStatus, transition
from marketplace.releases.models import Release, Service

# -- listings ----------------------------------------------------------------------------------


async def listed(session: AsyncSession, slug: str) -> tuple[CatalogueEntry, Service]:
    """A listed service by slug; anything not in the catalogue (suspended, withdrawn) is 404."""
    row = (
        await session.exec(
            select(CatalogueEntry, Service)
            .join(Service, col(Service.id) == col(CatalogueEntry.service_id))
            .where(CatalogueEntry.slug == slug)
        )
    ).first()
    if row is None:
        raise errors.NotFound("no such service in the catalogue")
    return row[0], row[1]


# -- ratings -----------------------------------------------------------------------------------

# Words that have no place in a public review. Deliberately short: the filter stops the obvious,
# complaints and moderation handle the rest.
_BLOCKED = re.compile(
    r"\b(fuck\w*|shit\w*|cunt\w*|bitch\w*|bastard\w*|wank\w*|twat\w*|nigg\w*|fag\w*|retard\w*)\b",
    re.IGNORECASE,
)
_LINK = re.compile(r"(https?://|www\.|\b[\w.+-]+@[\w-]+\.[\w.]+\b)", re.IGNORECASE)
_REPEAT = re.compile(r"(.)\1{9,}")
COMMENT_MAX = 1000


def check_comment(comment: str) -> str:
    """The comment as stored (trimmed), or a 422 at /comment saying what is wrong with it."""
    text = comment.strip()
    problem = None
    if not text:
        problem = "write something, or leave the comment out"
    elif len(text) > COMMENT_MAX:
        problem = f"at most {COMMENT_MAX} characters"
    elif any(ord(c) < 32 and c not in "\n\t" for c in text):
        problem = "control characters are not allowed"
    elif _LINK.search(text):
        problem = "links and email addresses are not allowed in a review"
    elif _BLOCKED.search(text):
        problem = "please keep reviews free of abusive language"
    elif _REPEAT.search(text):
        problem = "please write the review in words"
    elif len(text) >= 20 and sum(c.isupper() for c in text) > 0.8 * sum(c.isalpha() for c in text):
        problem = "please do not write the review in capitals"
    if problem is not None:
        raise errors.ValidationFailed([errors.FieldError("/comment", problem)])
    return text


async def holds_or_held_consent(session: AsyncSession, account_id: str, service_id: str) -> bool:
    found = (
        await session.exec(
            select(Consent.id)
            .where(Consent.account_id == account_id)
            .where(Consent.service_id == service_id)
            .limit(1)
        )
    ).first()
    return found is not None


async def rate(
    session: AsyncSession, principal: Principal, slug: str, stars: int, comment: str | None
) -> tuple[Rating, bool]:
    """Create or replace the caller's rating; only citizens who consented to the service may."""
    _, service = await listed(session, slug)
    if not await holds_or_held_consent(session, principal.account_id, service.id):
        raise errors.Forbidden(
            "only citizens who use the service (who gave it consent) can rate it"
        )
    text = check_comment(comment) if comment is not None else None
    rating = (
        await session.exec(
            select(Rating)
            .where(Rating.service_id == service.id)
            .where(Rating.account_id == principal.account_id)
            .with_for_update()
        )
    ).first()
    created = rating is None
    now = utcnow()
    if rating is None:
        rating = Rating(
            id=new_id("rat"),
            service_id=service.id,
            account_id=principal.account_id,
            stars=stars,
            comment=text,
            created_at=now,
            updated_at=now,
        )
    else:
        rating.stars, rating.comment, rating.updated_at = stars, text, now
    session.add(rating)
    record_event(
        session,
        "catalogue:rating:created" if created else "catalogue:rating:updated",
        subject_type="rating",
        subject_id=rating.id,
        actor_id=principal.account_id,
        body={"service_id": service.id, "stars": stars},
    )
    return rating, created


async def rating_summary(session: AsyncSession, service_id: str) -> dict[str, Any]:
    rows = (
        await session.exec(
            select(Rating.stars, func.count())
            .where(Rating.service_id == service_id)
            .group_by(col(Rating.stars))
        )
    ).all()
    distribution = {str(n): 0 for n in range(1, 6)}
    for stars, count in rows:
        distribution[str(stars)] = int(count)
    total = sum(distribution.values())
    mean = sum(int(k) * v for k, v in distribution.items()) / total if total else None
    return {
        "count": total,
        "mean": round(mean, 2) if mean is not None else None,
        "distribution": distribution,
    }


# -- complaints --------------------------------------------------------------------------------


async def complain(
    session: AsyncSession,
    principal: Principal,
    slug: str,
    category: ComplaintCategory,
    description: str,
    *,
    threshold: int,
    window_days: int,
) -> Complaint:
    """File a complaint; the provider hears of it (webhook), and past the threshold the live
    release goes back to human review with the open complaints attached."""
    entry, service = await listed(session, slug)
    text = description.strip()
    if len(text) < 10:
        raise errors.ValidationFailed(
            [errors.FieldError("/description", "say what went wrong in at least 10 characters")]
        )
    complaint = Complaint(
        id=new_id("cmp"),
        service_id=service.id,
        release_id=entry.release_id,
        account_id=principal.account_id,
        category=category,
        description=text,
        status=ComplaintStatus.OPEN,
    )
    session.add(complaint)
    record_event(
        session,
        "catalogue:complaint:received",
        subject_type="complaint",
        subject_id=complaint.id,
        actor_id=principal.account_id,
        body={
            "service_id": service.id,
            "release_id": entry.release_id,
            "category": category.value,
        },
    )
    await session.flush()
    await _maybe_reopen(session, service.id, entry.release_id, threshold, window_days)
    return complaint


async def _maybe_reopen(
    session: AsyncSession, service_id: str, release_id: str, threshold: int, window_days: int
) -> None:
    since = utcnow() - timedelta(days=window_days)
    open_ones = (
        await session.exec(
            select(Complaint)
            .where(Complaint.service_id == service_id)
            .where(Complaint.status != ComplaintStatus.RESOLVED)
            .where(col(Complaint.created_at) >= since)
            .where(col(Complaint.escalated_at).is_(None))
        )
    ).all()
    if len(open_ones) < threshold:
        return
    # Lock the release: two complaints crossing the threshold at once reopen it once.
    release = (
        await session.exec(select(Release).where(Release.id == release_id).with_for_update())
    ).first()
    if release is None or release.status is not ReleaseStatus.PUBLISHED:
        return
    now = utcnow()
    ids = sorted(c.id for c in open_ones)
    transition(
        session,
        release,
        "reopen_review",
        actor=Actor.SYSTEM,
        actor_id=None,
        reason=f"{len(ids)} open complaints within {window_days} days",
        details={"complaint_ids": ids},
    )
    for c in open_ones:
        c.escalated_at = now
        session.add(c)


async def _staff_or_member(session: AsyncSession, principal: Principal, service_id: str) -> str:
    """`reviewer` for reviewers and admins, `provider` for members of the service's organisation;
    anyone else gets 404 (a complaint's existence is not theirs to know)."""
    if principal.has_role(Role.REVIEWER) or principal.has_role(Role.ADMIN):
        return "reviewer"
    service = await session.get(Service, service_id)
    if service is not None and await membership_of(
        session, service.organisation_id, principal.account_id
    ):
        return "provider"
    raise errors.NotFound("no such complaint")


async def visible_complaint(
    session: AsyncSession, principal: Principal, complaint_id: str, *, lock: bool = False
) -> tuple[Complaint, str]:
    """The complaint and how the caller relates to it: complainant, provider or reviewer."""
    statement = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        statement = statement.with_for_update()
    complaint = (await session.exec(statement)).first()
    if complaint is None:
        raise errors.NotFound("no such complaint")
    if complaint.account_id == principal.account_id:
        return complaint, "complainant"
    return complaint, await _staff_or_member(session, principal, complaint.service_id)


async def respond(
    session: AsyncSession, principal: Principal, complaint_id: str, message: str
) -> tuple[Complaint, ComplaintResponse]:
    complaint, role = await visible_complaint(session, principal, complaint_id, lock=True)
    if role == "complainant":
        raise errors.Forbidden("the provider or a reviewer responds to a complaint")
    if complaint.status is ComplaintStatus.RESOLVED:
        raise errors.InvalidTransition("resolved", "responded", "the complaint is resolved")
    response = ComplaintResponse(
        id=new_id("cmr"),
        complaint_id=complaint.id,
        author_id=principal.account_id,
        author_role=role,
        message=message.strip(),
    )
    complaint.status = ComplaintStatus.RESPONDED
    session.add(complaint)
    session.add(response)
    record_event(
        session,
        "catalogue:complaint:responded",
        subject_type="complaint",
        subject_id=complaint.id,
        actor_id=principal.account_id,
        body={"service_id": complaint.service_id, "by": role},
    )
    return complaint, response


async def resolve(
    session: AsyncSession, principal: Principal, complaint_id: str, resolution: str
) -> Complaint:
    complaint, role = await visible_complaint(session, principal, complaint_id, lock=True)
    if role == "complainant":
        raise errors.Forbidden("the provider or a reviewer resolves a complaint")
    if complaint.status is ComplaintStatus.RESOLVED:
        raise errors.InvalidTransition("resolved", "resolved", "the complaint is resolved already")
    complaint.status = ComplaintStatus.RESOLVED
    complaint.resolution = resolution.strip()
    complaint.resolved_at = utcnow()
    session.add(complaint)
    record_event(
        session,
        "catalogue:complaint:resolved",
        subject_type="complaint",
        subject_id=complaint.id,
        actor_id=principal.account_id,
        body={"service_id": complaint.service_id, "by": role},
    )
    return complaint


async def responses_of(
    session: AsyncSession, complaint_ids: list[str]
) -> dict[str, list[ComplaintResponse]]:
    found: dict[str, list[ComplaintResponse]] = {i: [] for i in complaint_ids}
    if not complaint_ids:
        return found
    for r in (
        await session.exec(
            select(ComplaintResponse)
            .where(col(ComplaintResponse.complaint_id).in_(complaint_ids))
            .order_by(col(ComplaintResponse.created_at), col(ComplaintResponse.id))
        )
    ).all():
        found[r.complaint_id].append(r)
    return found


async def complaint_figures(session: AsyncSession, service_id: str) -> dict[str, Any]:
    rows = (
        await session.exec(
            select(Complaint.status, Complaint.created_at, Complaint.resolved_at).where(
                Complaint.service_id == service_id
            )
        )
    ).all()
    durations = [
        (resolved - created).total_seconds() / 86400
        for status, created, resolved in rows
        if status is ComplaintStatus.RESOLVED and resolved is not None
    ]
    return {
        "total": len(rows),
        "open": sum(1 for status, _, _ in rows if status is not ComplaintStatus.RESOLVED),
        "resolved": len(durations),
        "median_days_to_resolve": round(statistics.median(durations), 1) if durations else None,
    }


# -- outcomes ----------------------------------------------------------------------------------

_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


def _period_start_key(period: str) -> tuple[int, int] | None:
    """(year, first month) of a period `YYYY`, `YYYY-MM` or `YYYY-Qn`; None if malformed."""
    match = _PERIOD.match(period)
    if match is None:
        return None
    year = int(match.group(1))
    if match.group(2):
        return year, int(match.group(2))
    if match.group(3):
        return year, 3 * int(match.group(3)) - 2
    return year, 1


async def report_outcome(
    session: AsyncSession,
    principal: Principal,
    service_id: str,
    *,
    period: str,
    metric: str,
    value: float,
) -> OutcomeReport:
    """A provider reports one value for a metric its live release declared."""
    service = await session.get(Service, service_id)
    if (
        service is None
        or await membership_of(session, service.organisation_id, principal.account_id) is None
    ):
        raise errors.NotFound("no such service")
    entry = (
        await session.exec(select(CatalogueEntry).where(CatalogueEntry.service_id == service_id))
    ).first()
    if entry is None:
        raise errors.InvalidTransition(
            "unlisted", "reporting", "outcomes are reported for a service in the catalogue"
        )
    release = await session.get(Release, entry.release_id)
    assert release is not None
    declared = {m["metric"]: m for m in release.manifest.get("outcome_metrics", [])}
    problems: list[errors.FieldError] = []
    start = _period_start_key(period)
    now = utcnow()
    if start is None:
        problems.append(
            errors.FieldError("/period", "a year (2026), a month (2026-10) or a quarter (2026-Q3)")
        )
    elif start > (now.year, now.month):
        problems.append(errors.FieldError("/period", "the period has not started yet"))
    unit = declared.get(metric, {}).get("unit")
    if metric not in declared:
        names = ", ".join(sorted(declared)) or "none"
        problems.append(
            errors.FieldError("/metric", f"not a metric of the live release (declared: {names})")
        )
    if not math.isfinite(value):
        problems.append(errors.FieldError("/value", "must be a finite number"))
    elif value < 0 and unit in {"count", "days", "percent", "ratio"}:
        problems.append(errors.FieldError("/value", f"a {unit} cannot be negative"))
    elif unit == "percent" and value > 100:
        problems.append(errors.FieldError("/value", "a percentage is at most 100"))
    elif unit == "count" and value != int(value):
        problems.append(errors.FieldError("/value", "a count is a whole number"))
    if problems:
        raise errors.ValidationFailed(problems)
    report = OutcomeReport(
        id=new_id("out"),
        service_id=service_id,
        release_id=release.id,
        period=period,
        metric=metric,
        value=value,
        reported_by=principal.account_id,
        reported_at=now,
    )
    session.add(report)
    record_event(
        session,
        "catalogue:outcome:reported",
        subject_type="outcome",
        subject_id=report.id,
        actor_id=principal.account_id,
        body={"service_id": service_id, "period": period, "metric": metric, "value": value},
    )
    return report


async def may_read_outcomes(session: AsyncSession, principal: Principal, service_id: str) -> None:
    if principal.has_role(Role.ADMIN) or principal.has_role(Role.REVIEWER):
        return
    service = await session.get(Service, service_id)
    if (
        service is None
        or await membership_of(session, service.organisation_id, principal.account_id) is None
    ):
        raise errors.NotFound("no such service")


async def public_outcomes(
    session: AsyncSession, service_id: str, declared: list[dict[str, Any]], periods: int = 12
) -> list[dict[str, Any]]:
    """Per declared metric, the latest value reported for each of its last `periods` periods."""
    latest: dict[tuple[str, str], OutcomeReport] = {}
    for report in (
        await session.exec(
            select(OutcomeReport)
            .where(OutcomeReport.service_id == service_id)
            .order_by(col(OutcomeReport.reported_at), col(OutcomeReport.id))
        )
    ).all():
        latest[(report.metric, report.period)] = report
    out = []
    for metric in declared:
        name = metric.get("metric", "")
        rows = sorted(
            (r for (m, _), r in latest.items() if m == name),
            key=lambda r: (_period_start_key(r.period) or (0, 0), r.period),
            reverse=True,
        )[:periods]
        out.append(
            {
                "metric": name,
                "unit": metric.get("unit"),
                "description": metric.get("description", ""),
                "reports": [
                    {"period": r.period, "value": r.value, "reported_at": r.reported_at}
                    for r in rows
                ],
            }
        )
    return out


async def active_consent_count(session: AsyncSession, service_id: str) -> int:
    count = (
        await session.exec(
            select(func.count())
            .select_from(Consent)
            .where(Consent.service_id == service_id)
            .where(Consent.status == ConsentStatus.ACTIVE)
            .where(col(Consent.expires_at) > utcnow())
        )
    ).one()
    return int(count)
